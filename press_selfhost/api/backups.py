"""Backup endpoints: the decrypting restore download Press hands to the Agent, and admin actions."""

import time
from pathlib import PurePosixPath

import frappe
from werkzeug.wrappers import Response

from press_selfhost.backup_shipper import backup_configuration
from press_selfhost.errors import RestoreLinkRefusedError
from press_selfhost.integrations import storage
from press_selfhost.restore_links import verify_restore_link


@frappe.whitelist(allow_guest=True, methods=["GET", "HEAD"])
def download(site: str, key: str, expires: str, key_id: str, signature: str) -> Response:
	"""Serve one backup file decrypted and verified, to whoever holds a valid restore link (the Agent).

	Chunks go out only once authenticated; a tampered or truncated object cuts the response short of
	its Content-Length, so the downloader fails instead of restoring a bad backup.
	"""
	configuration = backup_configuration()
	try:
		verify_restore_link(configuration.keyring, site, key, expires, key_id, signature, time.time())
	except RestoreLinkRefusedError as error:
		frappe.throw(str(error), frappe.PermissionError)
	client = storage.storage_client(configuration.storage)
	bucket = configuration.storage.backups_bucket
	filename = PurePosixPath(key).name.removesuffix(".enc").split("-", 1)[-1]
	headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
	if frappe.request.method == "HEAD":
		metadata = client.head_object(Bucket=bucket, Key=key)["Metadata"]
		headers["Content-Length"] = metadata.get("plaintext-size", "0")
		return Response(status=200, headers=headers, mimetype="application/octet-stream")
	header, chunks = storage.open_decrypted(client, bucket, key, configuration.keyring, site)
	headers["Content-Length"] = str(header.plaintext_size)
	return Response(chunks, headers=headers, mimetype="application/octet-stream", direct_passthrough=True)


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
