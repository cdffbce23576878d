"""Fill the empty secrets of compose/.env with fresh random values, once.

Run by compose/init.sh before the first `docker compose up` (Compose reads .env before any
container exists, so the secrets cannot come from a container). A secret that already has a value
is never replaced, a secret missing from an older .env is added, and no value is ever printed:
only the names of what was generated. Standard library only, so it runs with any host python3;
Lago's RSA key needs `cryptography` or the `openssl` command.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

ALPHANUMERIC = string.ascii_letters + string.digits


def random_token(length: int = 40) -> str:
	"""Letters and digits only: nothing that .env quoting or ${} interpolation would touch."""
	return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def random_hex(length: int = 128) -> str:
	return secrets.token_hex(length // 2)


def fernet_key() -> str:
	"""The format of Frappe's encryption_key and press_selfhost's backup key (Fernet)."""
	return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def minio_kms_key() -> str:
	"""MINIO_KMS_SECRET_KEY is `<key name>:<base64 of 32 bytes>`; it enables SSE-S3."""
	return "press-selfhost-key:" + base64.b64encode(secrets.token_bytes(32)).decode()


def rsa_private_key_base64() -> str:
	"""Lago signs its webhooks with this key and wants the PEM base64-encoded on one line."""
	try:
		from cryptography.hazmat.primitives import serialization
		from cryptography.hazmat.primitives.asymmetric import rsa
	except ImportError:
		openssl = shutil.which("openssl")
		if not openssl:
			raise SystemExit(
				"init_secrets: Lago's RSA key needs the `openssl` command or the Python package "
				"`cryptography`; install either and run compose/init.sh again."
			) from None
		pem = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
			[openssl, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
			check=True,
			capture_output=True,
		).stdout
	else:
		key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
		pem = key.private_bytes(
			serialization.Encoding.PEM,
			serialization.PrivateFormat.TraditionalOpenSSL,
			serialization.NoEncryption(),
		)
	return base64.b64encode(pem).decode()


# Every secret of the stack and how to make it. .env.example names each with an empty value.
SECRETS: dict[str, Callable[[], str]] = {
	"DATABASE_PASSWORD": random_token,
	"REDIS_PASSWORD": random_token,
	"MINIO_ACCESS_KEY": lambda: random_token(20),
	"MINIO_SECRET_KEY": random_token,
	"MINIO_KMS_SECRET_KEY": minio_kms_key,
	"ENCRYPTION_KEY": fernet_key,
	"ADMIN_PASSWORD": random_token,
	"AGENT_PASSWORD": random_token,
	"TRAEFIK_PROVIDER_TOKEN": random_token,
	"REGISTRY_PASSWORD": random_token,
	"KEYCLOAK_ADMIN_PASSWORD": random_token,
	"KEYCLOAK_DB_PASSWORD": random_token,
	"KEYCLOAK_CLIENT_SECRET": random_token,
	"LAGO_API_KEY": random_token,
	"LAGO_ADMIN_PASSWORD": random_token,
	"LAGO_DB_PASSWORD": random_token,
	"LAGO_REDIS_PASSWORD": random_token,
	"LAGO_SECRET_KEY_BASE": random_hex,
	"LAGO_RSA_PRIVATE_KEY": rsa_private_key_base64,
	"LAGO_ENCRYPTION_PRIMARY_KEY": random_token,
	"LAGO_ENCRYPTION_DETERMINISTIC_KEY": random_token,
	"LAGO_ENCRYPTION_KEY_DERIVATION_SALT": random_token,
	"POSTAL_DB_PASSWORD": random_token,
	"POSTAL_RAILS_SECRET_KEY": random_hex,
}


def registry_htpasswd(values: Mapping[str, str]) -> str:
	"""Traefik's basic-auth line for the registry, derived from REGISTRY_PASSWORD (htpasswd {SHA})."""
	digest = hashlib.sha1(values["REGISTRY_PASSWORD"].encode()).digest()  # noqa: S324 (htpasswd format)
	return "press:{SHA}" + base64.b64encode(digest).decode()


# Secrets computed from others, after those exist.
DERIVED_SECRETS: dict[str, Callable[[Mapping[str, str]], str]] = {
	"REGISTRY_HTPASSWD": registry_htpasswd,
}


def read_env(text: str) -> dict[str, str]:
	"""KEY=VALUE lines as Compose reads this file's simple, unquoted values."""
	values = {}
	for line in text.splitlines():
		stripped = line.strip()
		if not stripped or stripped.startswith("#") or "=" not in stripped:
			continue
		key, _, value = stripped.partition("=")
		values[key.strip()] = value.strip()
	return values


def fill_missing_secrets(env_path: Path, template_path: Path) -> list[str]:
	"""Create env_path from the template if absent, fill its empty secrets; return the names filled."""
	if not env_path.exists():
		shutil.copyfile(template_path, env_path)
	lines = env_path.read_text().splitlines()
	values = read_env("\n".join(lines))
	generated: dict[str, str] = {}
	for name, make in SECRETS.items():
		if not values.get(name):
			generated[name] = make()
	known = {**values, **generated}
	for name, derive in DERIVED_SECRETS.items():
		if not values.get(name):
			generated[name] = derive(known)
	if not generated:
		return []
	pending = dict(generated)
	for index, line in enumerate(lines):
		key, separator, value = line.partition("=")
		key = key.strip()
		if separator and key in pending and not value.strip() and not key.startswith("#"):
			lines[index] = f"{key}={pending.pop(key)}"
	if pending:
		lines.append("")
		lines.append("# Added by compose/init_secrets.py (secrets this .env did not name yet)")
		lines.extend(f"{key}={value}" for key, value in pending.items())
	_write_private(env_path, "\n".join(lines) + "\n")
	return list(generated)


def _write_private(path: Path, text: str) -> None:
	"""Replace the file atomically, readable by its owner only (it holds every secret)."""
	handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".env.")
	try:
		with os.fdopen(handle, "w") as file:
			file.write(text)
		os.chmod(temporary, 0o600)
		os.replace(temporary, path)
	except BaseException:
		os.unlink(temporary)
		raise


def main(argv: list[str]) -> int:
	here = Path(__file__).resolve().parent
	env_path = Path(argv[1]) if len(argv) > 1 else here / ".env"
	template_path = Path(argv[2]) if len(argv) > 2 else here / ".env.example"
	names = fill_missing_secrets(env_path, template_path)
	if names:
		print(f"init_secrets: generated {len(names)} secret(s) in {env_path}: {', '.join(names)}")
	else:
		print(f"init_secrets: every secret in {env_path} already has a value; nothing changed")
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv))
