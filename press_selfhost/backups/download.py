"""The restore download: `/press-selfhost-backup/<file name>?<signed restore link>` serves one backup
decrypted and verified, so Press's own restore (which hands Remote File URLs to the Agent) works.

A page renderer rather than an /api/method endpoint because the Agent names the downloaded file
after the extension at the end of the URL path (.sql.gz, .tar): the path must end with the file name.
"""

import time

import frappe
from frappe.website.page_renderers.base_renderer import BaseRenderer
from werkzeug.wrappers import Response

from press_selfhost.backups import s3
from press_selfhost.backups.restore_links import verify_restore_link
from press_selfhost.backups.shipper import DOWNLOAD_ROUTE, backup_configuration
from press_selfhost.errors import BackupIntegrityError, RestoreLinkRefusedError


class BackupDownloadPage(BaseRenderer):
	"""Answers GET and HEAD for DOWNLOAD_ROUTE/<file name>; every other path is left to Frappe."""

	def can_render(self) -> bool:
		return self.path.startswith(f"{DOWNLOAD_ROUTE}/")

	def render(self) -> Response:
		arguments = frappe.local.request.args
		return backup_response(
			arguments.get("site", ""),
			arguments.get("key", ""),
			arguments.get("expires", ""),
			arguments.get("key_id", ""),
			arguments.get("signature", ""),
			head_only=frappe.local.request.method == "HEAD",
		)


def backup_response(
	site: str, key: str, expires: str, key_id: str, signature: str, head_only: bool = False
) -> Response:
	"""The decrypted backup as a streamed response; chunks go out only once authenticated, and a
	tampered or truncated object cuts the response short of its Content-Length so the download fails."""
	configuration = backup_configuration()
	try:
		verify_restore_link(configuration.keyring, site, key, expires, key_id, signature, time.time())
	except RestoreLinkRefusedError as error:
		raise frappe.PermissionError(str(error)) from None
	client = s3.storage_client(configuration.storage)
	bucket = configuration.storage.backups_bucket
	if head_only:
		metadata = client.head_object(Bucket=bucket, Key=key)["Metadata"]
		headers = {"Content-Length": metadata.get("plaintext-size", "0")}
		return Response(status=200, headers=headers, mimetype="application/octet-stream")
	try:
		header, chunks = s3.open_decrypted(client, bucket, key, configuration.keyring, site)
	except BackupIntegrityError as error:
		frappe.log_error(title=f"Refused to serve backup {key}", message=str(error))
		raise
	headers = {"Content-Length": str(header.plaintext_size)}
	return Response(chunks, headers=headers, mimetype="application/octet-stream", direct_passthrough=True)
