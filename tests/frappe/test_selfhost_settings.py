"""Selfhost Settings in a real bench: validation reaches the desk, secrets are stored encrypted."""

import frappe

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase


class TestSelfhostSettings(IntegrationTestCase):
	def setUp(self):
		self.settings = frappe.get_single("Selfhost Settings")

	def tearDown(self):
		frappe.db.rollback()

	def test_valid_settings_save_and_keep_secrets_encrypted(self):
		self.settings.update(
			{
				"domain": "example.com",
				"lago_api_url": "http://lago-api:3000",
				"lago_api_key": "lago-secret-key",
				"lago_webhook_signature_algorithm": "jwt",
			}
		)
		self.settings.save()
		stored = frappe.db.get_single_value("Selfhost Settings", "lago_api_key")
		self.assertNotEqual(stored, "lago-secret-key")
		self.assertEqual(
			frappe.get_single("Selfhost Settings").get_password("lago_api_key"), "lago-secret-key"
		)

	def test_an_endpoint_without_its_credential_is_refused(self):
		self.settings.update(
			{"minio_endpoint_url": "http://minio:9000", "minio_access_key": "", "minio_secret_key": ""}
		)
		with self.assertRaisesRegex(frappe.ValidationError, "minio_access_key"):
			self.settings.save()

	def test_a_bad_url_is_refused(self):
		self.settings.lago_api_url = "ftp://lago"
		self.settings.lago_api_key = "key"
		with self.assertRaises(frappe.ValidationError):
			self.settings.save()
