"""Scheduled backups in a real bench with Press: per-plan intervals, skipped states, and retries.

The job commits each site's backup (as Press's own scheduler does), so these tests clean up what they
made: Site Backups, Error Logs and Backup Policies are deleted and the test sites archived. Press
queues each backup's Agent request after commit; in a bench without an Agent it fails in the worker,
which does not change the Site Backup rows these tests look at.
"""

from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from press_selfhost.backups import scheduler

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase


class TestScheduledBackups(IntegrationTestCase):
	def setUp(self):
		from press.press.doctype.site_plan.test_site_plan import create_test_plan

		for fieldname, value in {
			"backup_schedule_enabled": 1,
			"backup_default_interval_hours": 24,
			"backup_default_with_files": 0,
			"backup_retry_first_delay_minutes": 15,
			"backup_retry_max_delay_hours": 6,
		}.items():
			frappe.db.set_single_value("Selfhost Settings", fieldname, value)
		self.plan = create_test_plan("Site")
		self.policy = frappe.get_doc(
			{"doctype": "Backup Policy", "site_plan": self.plan.name, "interval_hours": 6, "with_files": 1}
		).insert()
		self.sites = []
		self.site = self.make_site(plan=self.plan.name)
		frappe.db.commit()

	def tearDown(self):
		frappe.db.rollback()
		names = [site.name for site in self.sites]
		for backup in frappe.get_all("Site Backup", {"site": ("in", names)}, pluck="name"):
			frappe.delete_doc("Site Backup", backup, force=True, ignore_permissions=True)
		frappe.db.delete("Error Log", {"reference_doctype": "Site", "reference_name": ("in", names)})
		frappe.delete_doc("Backup Policy", self.policy.name, force=True, ignore_permissions=True)
		for name in names:
			frappe.db.set_value("Site", name, "status", "Archived")
		frappe.db.commit()

	def make_site(self, **values):
		from press.press.doctype.site.test_site import create_test_site

		site = create_test_site(creation=now_datetime() - timedelta(days=10), **values)
		self.sites.append(site)
		return site

	def backups(self, site):
		return frappe.get_all(
			"Site Backup",
			{"site": site.name},
			["status", "with_files", "offsite"],
			order_by="creation asc",
		)

	def record_backup(self, site, status: str, hours_ago: float, with_files: bool = True):
		"""A past backup as Press records it, inserted without Press's controller (no Agent job)."""
		backup = frappe.get_doc(
			{"doctype": "Site Backup", "site": site.name, "status": status, "with_files": with_files}
		)
		backup.db_insert()
		backup.db_set("creation", now_datetime() - timedelta(hours=hours_ago), update_modified=False)
		frappe.db.commit()

	def test_a_site_without_a_recent_backup_is_backed_up_once_as_its_plan_says(self):
		run = scheduler.take_scheduled_backups()
		self.assertIn(self.site.name, [scheduled.site for scheduled in run.due])
		self.assertEqual(self.backups(self.site), [{"status": "Pending", "with_files": 1, "offsite": 0}])

		# A re-run while that backup is pending starts nothing more.
		scheduler.take_scheduled_backups()
		self.assertEqual(len(self.backups(self.site)), 1)

	def test_a_plan_without_a_policy_uses_the_defaults(self):
		site = self.make_site()
		scheduler.take_scheduled_backups()
		self.assertEqual(self.backups(site), [{"status": "Pending", "with_files": 0, "offsite": 0}])

	def test_a_success_inside_the_interval_means_no_backup(self):
		self.record_backup(self.site, "Success", hours_ago=5)
		scheduler.take_scheduled_backups()
		self.assertEqual(len(self.backups(self.site)), 1)

		# A database-only success does not count for a plan that wants files.
		other = self.make_site(plan=self.plan.name)
		self.record_backup(other, "Success", hours_ago=1, with_files=False)
		scheduler.take_scheduled_backups()
		self.assertEqual(len(self.backups(other)), 2)

	def test_suspended_and_archived_sites_are_skipped(self):
		suspended = self.make_site(plan=self.plan.name)
		frappe.db.set_value("Site", suspended.name, "status", "Suspended")
		archived = self.make_site(plan=self.plan.name)
		frappe.db.set_value("Site", archived.name, "status", "Archived")
		frappe.db.commit()
		scheduler.take_scheduled_backups()
		self.assertEqual(self.backups(suspended), [])
		self.assertEqual(self.backups(archived), [])

	def test_a_failure_is_retried_after_its_backoff(self):
		self.record_backup(self.site, "Failure", hours_ago=0.1)  # 6 minutes ago, first delay 15
		run = scheduler.take_scheduled_backups()
		self.assertIn(self.site.name, [waiting.site for waiting in run.waiting])
		self.assertEqual(len(self.backups(self.site)), 1)

		failing = self.make_site(plan=self.plan.name)
		self.record_backup(failing, "Failure", hours_ago=0.5)  # 30 minutes ago: retry now
		run = scheduler.take_scheduled_backups()
		self.assertIn((failing.name, 2), [(s.site, s.attempt) for s in run.retry])
		self.assertEqual(self.backups(failing)[-1].status, "Pending")

	def test_a_logged_scheduling_error_counts_as_a_failed_attempt(self):
		frappe.log_error(
			title=scheduler.ERROR_TITLE,
			message="Site.backup raised",
			reference_doctype="Site",
			reference_name=self.site.name,
		)
		frappe.db.commit()
		run = scheduler.take_scheduled_backups()
		waiting = {w.site: w for w in run.waiting}
		self.assertEqual(waiting[self.site.name].failed_attempts, 1)
		self.assertEqual(self.backups(self.site), [])

	def test_disabled_schedule_starts_nothing(self):
		frappe.db.set_single_value("Selfhost Settings", "backup_schedule_enabled", 0)
		self.assertIsNone(scheduler.take_scheduled_backups())
		self.assertEqual(self.backups(self.site), [])
