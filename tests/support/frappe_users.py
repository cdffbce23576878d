"""Users for the bench tests (tests/frappe/), which import Frappe; CI never imports this module."""

import frappe


def ensure_user(email: str) -> str:
	"""A test user, created once and kept. Frappe refuses any new user once 60 were created in the
	last hour (throttle_user_creation, skipped for imports), which a shared bench's runs reach: these
	are fixtures, so they are created as an import would create them."""
	if not frappe.db.exists("User", email):
		frappe.flags.in_import = True
		try:
			frappe.get_doc(
				{
					"doctype": "User",
					"email": email,
					"first_name": email.partition("@")[0],
					"send_welcome_email": 0,
				}
			).insert(ignore_permissions=True)
		finally:
			frappe.flags.in_import = False
		frappe.db.commit()
	return email
