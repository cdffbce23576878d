"""pbkdf2-sha256 hashes in passlib's format, the one the stock agent keeps in `access_token`.

`$pbkdf2-sha256$<rounds>$<salt>$<checksum>`, salt and checksum in passlib's "ab64" base64
(`.` for `+`, no padding). Implemented with hashlib so the service needs no passlib.
"""

import base64
import hashlib
import hmac
import os

PREFIX = "$pbkdf2-sha256$"
DEFAULT_ROUNDS = 29000  # passlib's default for pbkdf2_sha256


def hash_password(password: str, *, rounds: int = DEFAULT_ROUNDS, salt: bytes | None = None) -> str:
	salt = os.urandom(16) if salt is None else salt
	checksum = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)
	return f"{PREFIX}{rounds}${_ab64_encode(salt)}${_ab64_encode(checksum)}"


def verify_password(password: str, hashed: str) -> bool:
	"""What `passlib.hash.pbkdf2_sha256.verify(password, hashed)` answers; False for a malformed hash."""
	if not hashed.startswith(PREFIX):
		return False
	parts = hashed[len(PREFIX) :].split("$")
	if len(parts) != 3 or not parts[0].isdigit() or int(parts[0]) < 1:
		return False
	try:
		salt, checksum = _ab64_decode(parts[1]), _ab64_decode(parts[2])
	except ValueError:
		return False
	computed = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(parts[0]))
	return hmac.compare_digest(computed, checksum)


def _ab64_encode(data: bytes) -> str:
	return base64.b64encode(data).decode().rstrip("=").replace("+", ".")


def _ab64_decode(text: str) -> bytes:
	padded = text.replace(".", "+") + "=" * (-len(text) % 4)
	return base64.b64decode(padded, validate=True)
