"""A new customer's sign-up, offline: the e-mailed code's page must not ask ip-api.com for a country.

`press.api.account.validate_request_key` (the dashboard's setup-account page, as Guest) proposes a
country from `press.utils.get_country_info`, which asks pro.ip-api.com for the caller's IP and keeps
the answer in Redis (`ip_country_map`). Without the site's `ip-api-key` that sends each customer's IP
to a third party, and without internet access it fails, so the page says the link is invalid. Press's
own function answers here, with the answer for this IP put in Redis first: the operator's Sign-up
Country, or nothing (then Press guesses from the browser's time zone).
"""

import frappe
from press.api import account

COUNTRY_CACHE = "ip_country_map"


@frappe.whitelist(allow_guest=True)
def validate_request_key(key, timezone=None):
	ip = getattr(frappe.local, "request_ip", None)
	if frappe.conf.get("ip-api-key") or not ip:
		return account.validate_request_key(key, timezone)
	cache = frappe.cache()
	known = cache.hget(COUNTRY_CACHE, ip)
	if known is None:
		country = frappe.db.get_single_value("Selfhost Settings", "signup_country")
		cache.hset(COUNTRY_CACHE, ip, {"country": country} if country else {})
	try:
		return account.validate_request_key(key, timezone)
	finally:
		if known is None:
			cache.hdel(COUNTRY_CACHE, ip)
