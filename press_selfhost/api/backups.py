"""Backup admin actions (the restore download itself is `press_selfhost.backup_download`)."""

import frappe

from press_selfhost.backup_shipper import backup_configuration
from press_selfhost.integrations import storage


@frappe.whitelist(methods=["POST"])
def ensure_buckets() -> str:
	"""Create or repair the backups, private and public buckets; what changed, for the admin."""
	frappe.only_for("System Manager")
	configuration = backup_configuration()
	client = storage.storage_client(configuration.storage)
	return str(storage.ensure_buckets(client, configuration.storage))


@frappe.whitelist()
def encrypted_download_url(remote_file: str) -> str:
	"""A presigned MinIO URL of the stored (still encrypted) object, for an admin's offline copy."""
	frappe.only_for("System Manager")
	file_path, bucket = frappe.db.get_value("Remote File", remote_file, ["file_path", "bucket"])
	configuration = backup_configuration()
	expiry = frappe.db.get_single_value("Selfhost Settings", "presigned_url_expiry_seconds") or 3600
	client = storage.storage_client(configuration.storage)
	return storage.presigned_download_url(client, bucket, file_path, int(expiry))
