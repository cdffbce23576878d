"""Fixtures shared by the bench tests (tests/frappe/), which import Frappe; CI never imports this module."""

import frappe
import requests
from frappe.utils import get_site_url
from frappe.utils.password import get_decrypted_password, set_encrypted_password

# What bootstrap writes into the Press Settings Single (bootstrap_records._press_settings).
PRESS_SETTINGS_FIELDS = (
	"domain",
	"cluster",
	"aws_s3_bucket",
	"offsite_backups_access_key_id",
	"docker_registry_url",
	"docker_registry_username",
	"docker_registry_password",
)
PRESS_SETTINGS_SECRET = "offsite_backups_secret_access_key"


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
	elif not frappe.db.get_value("User", email, "enabled"):
		# kept from an earlier run whose Team deletion disabled it (Press disables a deleted team's users)
		frappe.db.set_value("User", email, "enabled", 1)
		frappe.db.commit()
	return email


def saved_press_settings() -> dict:
	"""Press Settings as the test found them: bootstrap points them at the test's domain."""
	saved = {field: frappe.db.get_single_value("Press Settings", field) for field in PRESS_SETTINGS_FIELDS}
	saved[PRESS_SETTINGS_SECRET] = get_decrypted_password(
		"Press Settings", "Press Settings", PRESS_SETTINGS_SECRET, raise_exception=False
	)
	return saved


def restore_press_settings(saved: dict) -> None:
	for field in PRESS_SETTINGS_FIELDS:
		frappe.db.set_single_value("Press Settings", field, saved[field])
	if saved[PRESS_SETTINGS_SECRET]:
		set_encrypted_password(
			"Press Settings", "Press Settings", saved[PRESS_SETTINGS_SECRET], PRESS_SETTINGS_SECRET
		)
	else:
		frappe.db.delete("__Auth", {"doctype": "Press Settings", "fieldname": PRESS_SETTINGS_SECRET})


def use_keycloak_admin_standin(keycloak) -> None:
	"""Point Selfhost Settings at a KeycloakAdminStandIn: realm cloud, the dashboard client, its admin."""
	settings = frappe.get_single("Selfhost Settings")
	settings.update(
		{
			"keycloak_url": keycloak.url,
			"keycloak_realm": "cloud",
			"keycloak_client_id": "dashboard",
			"keycloak_client_secret": "dashboard-secret",
			"keycloak_admin_username": keycloak.username,
			"keycloak_admin_password": keycloak.password,
		}
	)
	settings.save(ignore_permissions=True)


def running_site_url() -> str:
	"""The site's URL, once its web server answers: the login tests go through it as browsers do."""
	site_url = get_site_url(frappe.local.site)
	try:
		requests.get(f"{site_url}/api/method/ping", timeout=5)
	except requests.ConnectionError:
		raise AssertionError(f"these tests need the bench's web server at {site_url} (bench start)") from None
	return site_url
