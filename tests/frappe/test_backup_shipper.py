"""The backup shipper in a real bench with Press: a successful local Site Backup ends up encrypted in
MinIO, recorded as Press Remote Files whose URL serves the decrypted backup, and old sets are pruned.

S3: a real MinIO when PRESS_SELFHOST_TEST_S3_URL (+ _ACCESS_KEY, _SECRET_KEY) is set, otherwise moto's
server if the bench has moto installed; without either the tests are skipped with the reason.
"""

import hashlib
import os
import shutil
import tempfile
import unittest
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import frappe
from frappe.utils import set_request

from press_selfhost.backups import buckets, s3, shipper
from press_selfhost.backups.download import BackupDownloadPage

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

ENCRYPTION_KEY = "bench-test-encryption-key-0123456789abcdef"


def start_s3():
	"""(endpoint, access key, secret key, stop) of an S3 server for the test, or None."""
	if os.environ.get("PRESS_SELFHOST_TEST_S3_URL"):
		return (
			os.environ["PRESS_SELFHOST_TEST_S3_URL"],
			os.environ["PRESS_SELFHOST_TEST_S3_ACCESS_KEY"],
			os.environ["PRESS_SELFHOST_TEST_S3_SECRET_KEY"],
			lambda: None,
		)
	try:
		from moto.server import ThreadedMotoServer
	except ImportError:
		return None
	import socket

	with socket.socket() as probe:
		probe.bind(("127.0.0.1", 0))
		port = probe.getsockname()[1]
	server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
	server.start()
	return f"http://127.0.0.1:{port}", "test-access-key", "test-secret-key", server.stop


class TestBackupShipper(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.s3 = start_s3()
		if cls.s3 is None:
			raise unittest.SkipTest(
				"No S3 server: set PRESS_SELFHOST_TEST_S3_URL or pip install moto[server] in the bench."
			)

	@classmethod
	def tearDownClass(cls):
		if cls.s3:
			cls.s3[3]()
		super().tearDownClass()

	def setUp(self):
		from press.press.doctype.site.test_site import create_test_site

		endpoint, access_key, secret_key, _ = self.s3
		suffix = uuid.uuid4().hex[:8]
		self.benches = Path(tempfile.mkdtemp())
		self.addCleanup(shutil.rmtree, self.benches)
		settings = frappe.get_single("Selfhost Settings")
		settings.update(
			{
				"minio_endpoint_url": endpoint,
				"minio_access_key": access_key,
				"minio_secret_key": secret_key,
				"backups_bucket": f"backups-{suffix}",
				"backup_encryption_key": ENCRYPTION_KEY,
			}
		)
		settings.save()
		# Fields the lead adds to Selfhost Settings; Singles store them by name already.
		for fieldname, value in {
			"private_bucket": f"private-{suffix}",
			"public_bucket": f"public-{suffix}",
			"backup_benches_directory": str(self.benches),
			"backup_keep_daily": 1,
			"backup_keep_weekly": 0,
			"backup_keep_monthly": 0,
			"backup_max_age_days": 30,
		}.items():
			frappe.db.set_single_value("Selfhost Settings", fieldname, value)
		self.configuration = shipper.backup_configuration()
		self.client = s3.storage_client(self.configuration.storage)
		buckets.ensure_buckets(self.client, self.configuration.storage)
		self.site = create_test_site()

	def tearDown(self):
		frappe.db.rollback()

	def make_local_backup(self, creation: datetime | None = None):
		from press.press.doctype.site_backup.test_site_backup import create_test_site_backup

		backup = create_test_site_backup(self.site.name, creation=creation, offsite=False, status="Success")
		directory = self.benches / self.site.bench / "sites" / self.site.name / "private" / "backups"
		directory.mkdir(parents=True, exist_ok=True)
		stamp = uuid.uuid4().hex[:6]
		database, config = f"{stamp}-database.sql.gz", f"{stamp}-site_config_backup.json"
		(directory / database).write_bytes(os.urandom(3 * 1024 * 1024 + 7))
		(directory / config).write_text('{"db_name": "_test"}')
		backup.db_set({"database_file": database, "config_file": config})
		return backup, directory / database

	def test_a_local_backup_is_shipped_encrypted_and_recorded_for_press(self):
		backup, database_path = self.make_local_backup()
		shipper.ship_backup(backup.name)

		backup.reload()
		self.assertTrue(backup.offsite)
		remote = frappe.get_doc("Remote File", backup.remote_database_file)
		self.assertEqual(remote.bucket, self.configuration.storage.backups_bucket)
		self.assertEqual(int(remote.file_size), database_path.stat().st_size)
		self.assertIn(f"/press-selfhost-backup/{remote.file_name}?", remote.url)
		self.assertTrue(backup.remote_config_file)
		stored = self.client.get_object(Bucket=remote.bucket, Key=remote.file_path)["Body"].read()
		self.assertNotIn(database_path.read_bytes()[:4096], stored)  # encrypted at rest

		# A second run (a retried job) does nothing more.
		shipper.ship_backup(backup.name)
		self.assertEqual(frappe.db.count("Remote File", {"file_path": remote.file_path}), 1)

	def test_the_restore_link_serves_the_decrypted_backup(self):
		backup, database_path = self.make_local_backup()
		shipper.ship_backup(backup.name)
		remote = frappe.get_doc(
			"Remote File", frappe.db.get_value("Site Backup", backup.name, "remote_database_file")
		)
		link = urlsplit(remote.url)
		# The Agent names the downloaded file after the extension at the end of the URL path.
		self.assertTrue(link.path.endswith(".sql.gz"))

		response = self.fetch(link.path, link.query)
		self.assertEqual(int(response.headers["Content-Length"]), database_path.stat().st_size)
		served = hashlib.sha256(b"".join(response.response)).hexdigest()
		self.assertEqual(served, hashlib.sha256(database_path.read_bytes()).hexdigest())
		self.assertEqual(self.fetch(link.path, link.query, method="HEAD").status_code, 200)

		forged = link.query.replace("signature=", "signature=0")
		with self.assertRaises(frappe.PermissionError):
			self.fetch(link.path, forged)

	def fetch(self, path: str, query: str, method: str = "GET"):
		set_request(method=method, path=path, query_string=query)
		page = BackupDownloadPage()
		self.assertTrue(page.can_render())
		return page.render()

	def test_a_tampered_backup_is_not_served(self):
		backup, _ = self.make_local_backup()
		shipper.ship_backup(backup.name)
		remote = frappe.get_doc(
			"Remote File", frappe.db.get_value("Site Backup", backup.name, "remote_database_file")
		)
		stored = self.client.get_object(Bucket=remote.bucket, Key=remote.file_path)
		damaged = bytearray(stored["Body"].read())
		damaged[200] ^= 0x01
		self.client.put_object(
			Bucket=remote.bucket, Key=remote.file_path, Body=bytes(damaged), Metadata=stored["Metadata"]
		)
		link = urlsplit(remote.url)

		response = self.fetch(link.path, link.query)
		with self.assertRaisesRegex(Exception, "failed authentication"):
			b"".join(response.response)

	def test_old_sets_are_pruned_and_marked_unavailable(self):
		old, _ = self.make_local_backup(creation=datetime.now() - timedelta(days=3))
		shipper.ship_backup(old.name)
		new, _ = self.make_local_backup()
		shipper.ship_backup(new.name)
		deleted = shipper.prune_site(self.site.name)

		self.assertTrue(deleted)
		self.assertTrue(all(key.startswith(f"sites/{self.site.name}/") for key in deleted))

		old.reload()
		self.assertEqual(old.files_availability, "Unavailable")
		self.assertEqual(
			frappe.db.get_value("Remote File", old.remote_database_file, "status"), "Unavailable"
		)
		sets = s3.list_backup_sets(self.client, self.configuration.storage.backups_bucket, self.site.name)
		self.assertEqual(len(sets), 1)
		self.assertGreater(sets[0].taken_at, datetime.now(timezone.utc) - timedelta(days=1))

	def test_missing_local_files_fail_with_the_setting_to_check(self):
		backup, database_path = self.make_local_backup()
		database_path.unlink()
		with self.assertRaisesRegex(Exception, "backup_benches_directory"):
			shipper.ship_backup(backup.name)
		self.assertFalse(frappe.db.get_value("Site Backup", backup.name, "offsite"))
