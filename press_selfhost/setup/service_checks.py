"""Doctor runs that the desk can show: each check's last result is kept in Selfhost Service Check.

Thin Frappe glue around press_selfhost.setup.doctor: read Selfhost Settings (Password fields decrypted),
run the checks, and store one record per check, updated in place, for the Selfhost workspace.
"""

import frappe
from frappe.utils import get_url, now_datetime

from press_selfhost.identity.dashboard_login import CALLBACK_PATH
from press_selfhost.setup.doctor import PRESS_RECORDS, SECRET_SETTINGS, configured_checks, run_checks
from press_selfhost.setup.health import CheckResult

DOCTYPE = "Selfhost Service Check"


def run_doctor(*, send_test_mail: bool = False) -> list[CheckResult]:
	"""Run every configured check, store the results, and return them (secrets already scrubbed)."""
	settings = frappe.get_single("Selfhost Settings")
	values = settings.as_dict()
	for fieldname in SECRET_SETTINGS:
		values[fieldname] = settings.get_password(fieldname, raise_exception=False) or ""
	values["keycloak_callback_url"] = get_url(CALLBACK_PATH)  # what bootstrap_realm registers
	values[PRESS_RECORDS] = {
		"server_statuses": {
			server.name: server.status
			for doctype in ("Proxy Server", "Database Server", "Server")
			for server in frappe.get_all(
				doctype, filters={"status": ("!=", "Archived")}, fields=["name", "status"]
			)
		},
		"active_benches": frappe.db.count("Bench", {"status": "Active"}),
	}
	checks, secrets = configured_checks(values, send_test_mail=send_test_mail)
	results = run_checks(checks, secrets)
	store_results(results)
	return results


def store_results(results: list[CheckResult]) -> None:
	"""One record per check name, so the list shows each service's latest state."""
	checked_at = now_datetime()
	for result in results:
		values = {
			"status": "Passing" if result.ok else "Failing",
			"detail": result.detail,
			"fix": result.fix,
			"checked_at": checked_at,
		}
		if frappe.db.exists(DOCTYPE, result.name):
			record = frappe.get_doc(DOCTYPE, result.name)
			record.update(values)
			record.save(ignore_permissions=True)
		else:
			frappe.get_doc({"doctype": DOCTYPE, "check_name": result.name, **values}).insert(
				ignore_permissions=True
			)


def run_scheduled_doctor() -> None:
	"""Hourly: keeps the workspace's service states fresh. Never sends the test mail (it would mail
	the admin every hour); `press-selfhost doctor --send-test-mail` does that on request."""
	run_doctor(send_test_mail=False)
