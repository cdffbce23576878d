"""Scheduler (Frappe shell): take each site's backups on its plan's schedule, retrying failures.

Reads everything with one query per DocType (Selfhost Settings, Backup Policy, Site, Site Backup,
Error Log), lets `press_selfhost.backups.schedule` decide, and starts each backup through Press's own
`Site.backup(offsite=False)`: the shipper then takes the finished backup to MinIO. A backup fails
either in Press's Agent job (a "Failure" Site Backup) or right here when `Site.backup` raises (an
Error Log titled ERROR_TITLE, referencing the Site); both count as failed attempts, both are in the
desk, and the site is retried with a doubling delay until a backup succeeds.
"""

from datetime import timedelta

import frappe
from frappe.utils import cint, get_datetime, now_datetime

from press_selfhost.backups.schedule import (
	Attempt,
	BackupPolicy,
	BackupRun,
	RetryPolicy,
	lookback,
	plan_backups,
	site_state,
)

ERROR_TITLE = "Scheduled backup failed"
# Sites in these states are not backed up: suspended and archived ones on purpose, the others have
# nothing to back up yet.
SKIPPED_STATUSES = ("Suspended", "Archived", "Pending", "Installing")


def take_scheduled_backups() -> BackupRun | None:
	"""Start the backups that are due or whose retry delay has passed; the run's plan, None when disabled."""
	settings = frappe.get_single("Selfhost Settings")
	if not cint(_setting(settings, "backup_schedule_enabled", 1)):
		return None
	default = BackupPolicy(
		interval_hours=cint(_setting(settings, "backup_default_interval_hours", 24)),
		with_files=bool(cint(_setting(settings, "backup_default_with_files", 1))),
	)
	retry = RetryPolicy(
		first_delay=timedelta(minutes=cint(_setting(settings, "backup_retry_first_delay_minutes", 15))),
		max_delay=timedelta(hours=cint(_setting(settings, "backup_retry_max_delay_hours", 6))),
	)
	policies = {
		row.site_plan: BackupPolicy(cint(row.interval_hours), bool(row.with_files))
		for row in frappe.get_all("Backup Policy", fields=["site_plan", "interval_hours", "with_files"])
	}
	now = now_datetime()
	since = now - lookback([default, *policies.values()], retry)
	sites = frappe.get_all(
		"Site",
		filters={"status": ("not in", SKIPPED_STATUSES), "is_standby": 0},
		fields=["name", "plan"],
	)
	attempts = _attempts_since(since)
	states = [
		site_state(site.name, site.plan, attempts.get(site.name, []), policies.get(site.plan, default))
		for site in sites
	]
	run = plan_backups(states, policies, default, now, retry)
	for scheduled in run.retry + run.due:
		_start_backup(scheduled.site, scheduled.with_files, scheduled.attempt)
	return run


def _setting(settings, fieldname: str, default):
	value = settings.get(fieldname)
	return default if value in (None, "") else value


def _attempts_since(since) -> dict[str, list[Attempt]]:
	"""Every site's backups (Press's Site Backups) and scheduling errors (our Error Logs) since `since`."""
	attempts: dict[str, list[Attempt]] = {}
	for backup in frappe.get_all(
		"Site Backup",
		filters={"creation": (">=", since)},
		fields=["site", "status", "with_files", "creation"],
	):
		attempts.setdefault(backup.site, []).append(
			Attempt(
				at=get_datetime(backup.creation),
				succeeded=backup.status == "Success",
				with_files=bool(backup.with_files),
				in_progress=backup.status in ("Pending", "Running"),
			)
		)
	for error in frappe.get_all(
		"Error Log",
		filters={"method": ERROR_TITLE, "reference_doctype": "Site", "creation": (">=", since)},
		fields=["reference_name", "creation"],
	):
		attempts.setdefault(error.reference_name, []).append(
			Attempt(at=get_datetime(error.creation), succeeded=False)
		)
	return attempts


def _start_backup(site_name: str, with_files: bool, attempt: int) -> None:
	"""One site's backup in its own transaction: a failure is logged against the Site and the others go on."""
	try:
		frappe.get_doc("Site", site_name).backup(with_files=with_files, offsite=False)
		frappe.db.commit()
	except Exception:
		frappe.db.rollback()
		frappe.log_error(
			title=ERROR_TITLE,
			message=f"Attempt {attempt} to back up {site_name} failed; it is retried after a delay.\n"
			+ frappe.get_traceback(),
			reference_doctype="Site",
			reference_name=site_name,
		)
		frappe.db.commit()
