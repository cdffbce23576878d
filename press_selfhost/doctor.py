"""The doctor: checks that each service the platform needs answers as Press will use it.

Each check is a function that returns a short success detail or raises `CheckFailed` with what is
wrong and the fix in one line. The runner gives every check its own time limit, turns any other
error into a failed check, and scrubs the secrets it was given out of every message, so the output
is safe to paste into an issue. Framework-free: the shell passes settings in.
"""

import json
import smtplib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass

import pymysql
import requests

REDACTED = "********"


class CheckFailed(Exception):
	"""A check found a problem; `fix` tells the admin what to do, in one line."""

	def __init__(self, detail: str, fix: str):
		super().__init__(detail)
		self.detail = detail
		self.fix = fix


@dataclass(frozen=True)
class Check:
	"""A named probe with its own time limit (seconds); `probe` returns a success detail."""

	name: str
	probe: Callable[[], str]
	timeout: float = 10.0
	fix_on_error: str = ""


@dataclass(frozen=True)
class CheckResult:
	name: str
	ok: bool
	detail: str
	fix: str = ""


def run_checks(checks: Iterable[Check], secrets: Iterable[str] = ()) -> list[CheckResult]:
	"""Run every check (each at most its timeout) and return the results, secrets scrubbed."""
	secrets = [secret for secret in secrets if secret]
	return [_redacted(_run(check), secrets) for check in checks]


def all_ok(results: Iterable[CheckResult]) -> bool:
	return all(result.ok for result in results)


def results_json(results: list[CheckResult]) -> str:
	return json.dumps({"ok": all_ok(results), "checks": [asdict(result) for result in results]}, indent=2)


def results_text(results: list[CheckResult]) -> str:
	lines = []
	for result in results:
		lines.append(f"{'✓' if result.ok else '✗'} {result.name}: {result.detail}")
		if not result.ok and result.fix:
			lines.append(f"    fix: {result.fix}")
	return "\n".join(lines)


def _run(check: Check) -> CheckResult:
	outcome: list[CheckResult] = []

	def target():
		try:
			outcome.append(CheckResult(check.name, True, check.probe()))
		except CheckFailed as failure:
			outcome.append(CheckResult(check.name, False, failure.detail, failure.fix))
		except Exception as error:
			outcome.append(
				CheckResult(check.name, False, f"{type(error).__name__}: {error}", check.fix_on_error)
			)

	# A daemon thread: a probe stuck past its time limit must not keep the command from exiting.
	thread = threading.Thread(target=target, name=f"doctor: {check.name}", daemon=True)
	thread.start()
	thread.join(check.timeout)
	if not outcome:
		return CheckResult(
			check.name,
			False,
			f"no answer within {check.timeout:g} s",
			check.fix_on_error or "Check that the service is running and reachable from Press.",
		)
	return outcome[0]


def _redacted(result: CheckResult, secrets: list[str]) -> CheckResult:
	detail, fix = result.detail, result.fix
	for secret in sorted(secrets, key=len, reverse=True):
		detail = detail.replace(secret, REDACTED)
		fix = fix.replace(secret, REDACTED)
	return CheckResult(result.name, result.ok, detail, fix)


# -- the checks ---------------------------------------------------------------------------------


def mariadb_root_check(host: str, port: int, password: str, *, timeout: float = 5.0) -> Check:
	"""Press creates each new site's database and user with MariaDB's root account."""
	where = f"{host}:{port}"

	def probe() -> str:
		try:
			connection = pymysql.connect(
				host=host,
				port=port,
				user="root",
				password=password,
				connect_timeout=timeout,
				read_timeout=timeout,
			)
		except pymysql.err.OperationalError as error:
			code = error.args[0] if error.args else None
			if code == 1045:
				raise CheckFailed(
					f"MariaDB at {where} refused root's password",
					"Set mariadb_root_password in Selfhost Settings to MariaDB's root password, then run bootstrap.",
				) from None
			raise CheckFailed(
				f"MariaDB at {where} is unreachable (error {code})",
				"Start MariaDB and make database_server_private_ip point at it.",
			) from None
		with connection, connection.cursor() as cursor:
			cursor.execute("SHOW GRANTS FOR CURRENT_USER()")
			grants = " ".join(row[0] for row in cursor.fetchall()).upper()
		if "ALL PRIVILEGES ON *.*" not in grants or "WITH GRANT OPTION" not in grants:
			raise CheckFailed(
				f"root at {where} lacks ALL PRIVILEGES ON *.* WITH GRANT OPTION",
				"Grant root ALL PRIVILEGES ON *.* WITH GRANT OPTION: Press creates a database and a user per site.",
			)
		return f"root can create site databases on {where}"

	return Check("MariaDB root access", probe, timeout=timeout * 3)


def smtp_login_check(
	host: str, port: int, username: str, password: str, *, use_tls: bool = False, timeout: float = 5.0
) -> Check:
	"""Frappe sends Press's own mail through Postal's SMTP with these credentials."""
	where = f"{host}:{port}"

	def probe() -> str:
		try:
			with smtplib.SMTP(host, port, timeout=timeout) as smtp:
				smtp.ehlo()
				if use_tls:
					smtp.starttls()
					smtp.ehlo()
				if username or password:
					smtp.login(username, password)
		except smtplib.SMTPAuthenticationError as error:
			raise CheckFailed(
				f"SMTP at {where} refused the login for '{username}' ({error.smtp_code})",
				"Copy the SMTP credential from Postal into postal_smtp_username/postal_smtp_password.",
			) from None
		except (OSError, smtplib.SMTPException) as error:
			raise CheckFailed(
				f"SMTP at {where} is unreachable or broke off ({type(error).__name__})",
				"Start Postal's SMTP server and check postal_smtp_host and postal_smtp_port.",
			) from None
		return f"logged in to {where} as '{username}'" if username else f"{where} answers"

	return Check("Postal SMTP login", probe, timeout=timeout * 3)


def oidc_discovery_check(keycloak_url: str, realm: str, *, timeout: float = 5.0) -> Check:
	"""The dashboard's login goes through the realm's OpenID Connect endpoints."""
	url = f"{keycloak_url.rstrip('/')}/realms/{realm}/.well-known/openid-configuration"

	def probe() -> str:
		try:
			response = requests.get(url, timeout=timeout)
		except requests.RequestException as error:
			raise CheckFailed(
				f"{url} is unreachable ({type(error).__name__})",
				"Start Keycloak and check keycloak_url in Selfhost Settings.",
			) from None
		if response.status_code == 404:
			raise CheckFailed(
				f"Keycloak has no realm '{realm}' (HTTP 404)",
				"Create the realm or correct keycloak_realm in Selfhost Settings.",
			)
		if response.status_code != 200:
			raise CheckFailed(
				f"{url} answered HTTP {response.status_code}",
				"Check Keycloak's logs; the discovery document must be public.",
			)
		try:
			document = response.json()
		except ValueError:
			document = None
		missing = [
			key
			for key in ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint")
			if not isinstance(document, Mapping) or not document.get(key)
		]
		if missing:
			raise CheckFailed(
				f"{url} is not an OpenID discovery document (missing {', '.join(missing)})",
				"Point keycloak_url at Keycloak itself, not at a proxy page.",
			)
		return f"realm '{realm}' publishes its OpenID endpoints (issuer {document['issuer']})"

	return Check("Keycloak realm discovery", probe, timeout=timeout * 2)


def _not_configured(name: str, fieldname: str) -> Check:
	def probe() -> str:
		raise CheckFailed(f"{fieldname} is not set", f"Set {fieldname} in Selfhost Settings.")

	return Check(name, probe)


def configured_checks(values: Mapping[str, object]) -> tuple[list[Check], list[str]]:
	"""The checks Selfhost Settings allow (Password fields decrypted in `values`), and their secrets."""

	def text(fieldname: str) -> str:
		value = values.get(fieldname)
		return str(value).strip() if value not in (None, "") else ""

	checks = [
		mariadb_root_check(
			text("database_server_private_ip"),
			3306,  # the compose MariaDB listens on the standard port
			text("mariadb_root_password"),
		)
		if text("database_server_private_ip")
		else _not_configured("MariaDB root access", "database_server_private_ip")
	]
	if text("postal_smtp_host"):
		checks.append(
			smtp_login_check(
				text("postal_smtp_host"),
				int(values.get("postal_smtp_port") or 25),
				text("postal_smtp_username"),
				text("postal_smtp_password"),
				use_tls=bool(values.get("postal_smtp_use_tls")),
			)
		)
	if text("keycloak_url") and text("keycloak_realm"):
		checks.append(oidc_discovery_check(text("keycloak_url"), text("keycloak_realm")))
	secret_fields = (
		"mariadb_root_password",
		"postal_smtp_password",
		"keycloak_client_secret",
		"agent_password",
	)
	return checks, [text(fieldname) for fieldname in secret_fields]
