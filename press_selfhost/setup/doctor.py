"""The doctor: runs the checks that each service the platform needs answers as Press will use it.

Each feature's `checks.py` holds its checks (built from `setup/health.py`): a check returns a short
success detail or raises `CheckFailed` with what is wrong and the fix in one line. The runner gives
every check its own time limit, turns any other error into a failed check, and scrubs the secrets
it was given out of every message, so the output is safe to paste into an issue. `configured_checks`
picks the checks Selfhost Settings allow. Framework-free: the shell passes settings in.
"""

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict

from press_selfhost.backups import s3
from press_selfhost.backups.checks import minio_buckets_check
from press_selfhost.billing.checks import lago_api_key_check, lago_webhook_check, lago_webhook_reachable_check
from press_selfhost.identity.checks import dashboard_callback_url, keycloak_client_check, oidc_discovery_check
from press_selfhost.identity.keycloak_admin import AdminCredentials
from press_selfhost.mail.checks import (
	outgoing_mail_check,
	postal_api_key_check,
	postal_webhook_reachable_check,
	smtp_login_check,
)
from press_selfhost.routing.checks import agent_ping_check, proxy_agent_ping_check, routing_endpoint_check
from press_selfhost.setup.checks import mariadb_root_check, press_records_check
from press_selfhost.setup.health import Check, CheckFailed, CheckResult

REDACTED = "********"
# What the shell reads from Press for the "Press servers and bench" check (not a Selfhost Setting).
PRESS_RECORDS = "press_records"
# Selfhost Settings' Password fields the checks need decrypted (the shell reads them by name).
SECRET_SETTINGS = (
	"mariadb_root_password",
	"postal_smtp_password",
	"postal_server_api_key",
	"keycloak_client_secret",
	"keycloak_admin_password",
	"agent_password",
	"proxy_agent_password",
	"traefik_config_token",
	"minio_secret_key",
	"lago_api_key",
	"lago_hmac_key",
)


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


def _not_configured(name: str, fieldnames: list[str]) -> Check:
	def probe() -> str:
		missing = ", ".join(fieldnames)
		raise CheckFailed(f"{missing} not set", f"Set {missing} in Selfhost Settings.")

	return Check(name, probe)


def configured_checks(
	values: Mapping[str, object], *, send_test_mail: bool = False
) -> tuple[list[Check], list[str]]:
	"""The checks Selfhost Settings allow (Password fields decrypted in `values`), and their secrets.

	The services every site needs (routing, Agent, proxy, MariaDB) are always checked, failing when
	unset; the others only once their address is set, then failing when a credential is missing.
	Lago's and Postal's webhooks are probed on Press once Lago's or Postal's address is set.
	Outgoing mail mails the admin, so it is checked only when `send_test_mail` asks for it.
	"""

	def text(fieldname: str) -> str:
		value = values.get(fieldname)
		return str(value).strip() if value not in (None, "") else ""

	def when_set(name: str, fieldnames: tuple[str, ...], make: Callable[[], Check]) -> Check:
		missing = [fieldname for fieldname in fieldnames if not text(fieldname)]
		return _not_configured(name, missing) if missing else make()

	checks = [
		when_set(
			"Traefik routing endpoint",
			("press_upstream_url", "domain", "traefik_config_token"),
			lambda: routing_endpoint_check(
				text("press_upstream_url"), text("domain"), text("traefik_config_token")
			),
		),
		when_set(
			"Agent ping",
			("agent_url", "agent_password"),
			lambda: agent_ping_check(text("agent_url"), text("agent_password")),
		),
		when_set(
			"Proxy service ping",
			("proxy_server_private_ip", "proxy_agent_password"),
			lambda: proxy_agent_ping_check(text("proxy_server_private_ip"), text("proxy_agent_password")),
		),
		when_set(
			"MariaDB root access",
			("database_server_private_ip",),
			lambda: mariadb_root_check(
				text("database_server_private_ip"),
				3306,  # the compose MariaDB listens on the standard port
				text("mariadb_root_password"),
			),
		),
	]
	if PRESS_RECORDS in values:  # read from Press by the shell, not a setting
		records = values[PRESS_RECORDS]
		checks.append(press_records_check(records["server_statuses"], records["active_benches"]))
	if text("minio_endpoint_url"):
		checks.append(
			when_set(
				"MinIO buckets and policies",
				("minio_access_key", "minio_secret_key"),
				lambda: minio_buckets_check(
					s3.StorageSettings(
						endpoint_url=text("minio_endpoint_url"),
						access_key=text("minio_access_key"),
						secret_key=text("minio_secret_key"),
						region=text("minio_region") or "us-east-1",
						backups_bucket=text("backups_bucket") or "backups",
						private_bucket=text("private_bucket") or "private",
						public_bucket=text("public_bucket") or "public",
					)
				),
			)
		)
	if text("lago_api_url"):
		checks.append(
			when_set(
				"Lago API key",
				("lago_api_key",),
				lambda: lago_api_key_check(text("lago_api_url"), text("lago_api_key")),
			)
		)
		checks.append(
			when_set(
				"Lago webhook",
				("lago_api_key", "domain"),
				lambda: lago_webhook_check(text("lago_api_url"), text("lago_api_key"), text("domain")),
			)
		)
		checks.append(
			when_set(
				"Lago webhook reachable",
				("press_upstream_url", "domain"),
				lambda: lago_webhook_reachable_check(text("press_upstream_url"), text("domain")),
			)
		)
	if text("keycloak_url") and text("keycloak_realm"):
		checks.append(oidc_discovery_check(text("keycloak_url"), text("keycloak_realm")))
	if text("keycloak_url") and text("keycloak_admin_username"):
		# the shell passes the URL bootstrap_realm registers; the dashboard's host otherwise
		callback_url = text("keycloak_callback_url") or (
			dashboard_callback_url(text("domain")) if text("domain") else ""
		)
		checks.append(
			when_set(
				"Keycloak dashboard client",
				("keycloak_admin_password", "keycloak_realm", "keycloak_client_id"),
				lambda: keycloak_client_check(
					AdminCredentials(
						text("keycloak_url"),
						text("keycloak_admin_username"),
						text("keycloak_admin_password"),
					),
					text("keycloak_realm"),
					text("keycloak_client_id"),
					callback_url,
				),
			)
			if callback_url
			else _not_configured("Keycloak dashboard client", ["domain"])
		)
	if text("postal_url"):
		checks.append(
			when_set(
				"Postal API key",
				("postal_server_api_key",),
				lambda: postal_api_key_check(text("postal_url"), text("postal_server_api_key")),
			)
		)
		checks.append(
			when_set(
				"Postal webhook reachable",
				("press_upstream_url", "domain"),
				lambda: postal_webhook_reachable_check(text("press_upstream_url"), text("domain")),
			)
		)
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
	if send_test_mail:
		checks.append(
			when_set(
				"Outgoing mail",
				("postal_smtp_host", "postal_from_address", "bootstrap_admin_email"),
				lambda: outgoing_mail_check(
					text("postal_smtp_host"),
					int(values.get("postal_smtp_port") or 25),
					text("postal_smtp_username"),
					text("postal_smtp_password"),
					text("postal_from_address"),
					text("bootstrap_admin_email"),
					use_tls=bool(values.get("postal_smtp_use_tls")),
				),
			)
		)
	return checks, [text(fieldname) for fieldname in SECRET_SETTINGS]
