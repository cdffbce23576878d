"""Backup admin actions (the restore download itself is `press_selfhost.backups.download`)."""

import frappe

from press_selfhost.backups import buckets, s3
from press_selfhost.backups.shipper import backup_configuration


@frappe.whitelist(methods=["POST"])
def ensure_buckets() -> str:
	"""Create or repair the backups, private and public buckets; what changed, for the admin."""
	frappe.only_for("System Manager")
	configuration = backup_configuration()
	client = s3.storage_client(configuration.storage)
	return str(buckets.ensure_buckets(client, configuration.storage))


@frappe.whitelist()
def encrypted_download_url(remote_file: str) -> str:
	"""A presigned MinIO URL of the stored (still encrypted) object, for an admin's offline copy."""
	frappe.only_for("System Manager")
	file_path, bucket = frappe.db.get_value("Remote File", remote_file, ["file_path", "bucket"])
	configuration = backup_configuration()
	expiry = frappe.db.get_single_value("Selfhost Settings", "presigned_url_expiry_seconds") or 3600
	client = s3.storage_client(configuration.storage)
	return s3.presigned_download_url(client, bucket, file_path, int(expiry))
