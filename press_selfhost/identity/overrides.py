"""Press DocType classes whose cloud habits a self-hosted Press must not keep (override_doctype_class)."""

import frappe
from press.press.doctype.account_request.account_request import AccountRequest


class SelfhostAccountRequest(AccountRequest):
	def get_country_info(self):
		"""Press looks every signup's IP up at pro.ip-api.com; without the site's `ip-api-key` that sends
		the IP to a third party for nothing, and without internet access it raises, so every signup and
		first Keycloak login would answer 500. No key, no lookup (Press then leaves geo_location empty)."""
		if not frappe.conf.get("ip-api-key"):
			return {}
		return super().get_country_info()
