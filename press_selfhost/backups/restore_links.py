"""Signed, expiring links through which a restore downloads a decrypted backup.

MinIO's presigned URLs serve the stored bytes, which are encrypted; Press's restore hands URLs to the
Agent, which needs the plain backup. So a restore link points at press_selfhost's download endpoint,
which checks the signature here, then fetches, decrypts and verifies on the way. The link names the
key id it was signed with, so links made before an ENCRYPTION_KEY rotation keep working while the
old key is still configured as a previous key.
"""

import hashlib
import hmac
from urllib.parse import urlencode

from press_selfhost.backups.encryption import BackupKeyring
from press_selfhost.errors import BackupIntegrityError, RestoreLinkRefusedError


def _signing_secret(secret: bytes) -> bytes:
	return hmac.new(secret, b"press_selfhost/restore-link/v1", hashlib.sha256).digest()


def _signature(secret: bytes, site: str, key: str, expires: int) -> str:
	message = f"{site}\n{key}\n{expires}".encode()
	return hmac.new(_signing_secret(secret), message, hashlib.sha256).hexdigest()


def restore_link_query(keyring: BackupKeyring, site: str, key: str, expires: int) -> str:
	"""The query string of a link to `key` of `site`, valid until `expires` (Unix time)."""
	return urlencode(
		{
			"site": site,
			"key": key,
			"expires": expires,
			"key_id": keyring.current_key_id.hex(),
			"signature": _signature(keyring.current, site, key, expires),
		}
	)


def verify_restore_link(
	keyring: BackupKeyring, site: str, key: str, expires: str, signing_key_id: str, signature: str, now: float
) -> None:
	"""Raise RestoreLinkRefusedError unless the link was signed by one of our keys and has not expired."""
	try:
		expiry = int(expires)
		secret = keyring.secret_for(bytes.fromhex(signing_key_id))
	except (ValueError, BackupIntegrityError):
		raise RestoreLinkRefusedError(
			"The restore link is malformed or was signed with an unknown key."
		) from None
	expected = _signature(secret, site, key, expiry)
	if not signature.isascii() or not hmac.compare_digest(expected, signature):
		raise RestoreLinkRefusedError(
			"The restore link's signature does not match: it was altered or forged."
		)
	if not key.startswith(f"sites/{site}/"):
		raise RestoreLinkRefusedError("The restore link names a backup of another site.")
	if now > expiry:
		raise RestoreLinkRefusedError("The restore link has expired; create a new one from the backup list.")
