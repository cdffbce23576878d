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
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import quote

import pymysql
import requests

from press_selfhost.backups import s3
from press_selfhost.billing.lago import LagoGateway
from press_selfhost.errors import ConfigurationError, ServiceError, ServiceRejectedError
from press_selfhost.identity.keycloak_admin import AdminCredentials, KeycloakAdmin
from press_selfhost.mail.postal import PostalClient
from press_selfhost.routing.agent import AgentClient, AgentSettings

REDACTED = "********"
# The port press_selfhost's proxy service listens on in compose (as the stock agent's web does).
PROXY_AGENT_PORT = 25052
ROUTING_CONFIG_PATH = "/api/method/press.api.selfhost_traefik.config"
LAGO_WEBHOOK_PATH = "/api/method/press.api.selfhost_lago.webhook"
KEYCLOAK_CALLBACK_PATH = "/auth/keycloak/callback"  # keycloak_login.CALLBACK_PATH (that module needs frappe)
KEYCLOAK_BOOTSTRAP_FIX = (
	"Run: bench --site <site> execute press_selfhost.identity.dashboard_login.bootstrap_realm"
)
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


def outgoing_mail_check(
	host: str,
	port: int,
	username: str,
	password: str,
	sender: str,
	recipient: str,
	*,
	use_tls: bool = False,
	timeout: float = 5.0,
) -> Check:
	"""Sends a real test message through Postal's SMTP: a login alone does not prove mail leaves.

	Only run on request (`doctor --send-test-mail`), so the admin is not mailed by every run.
	"""
	where = f"{host}:{port}"

	def probe() -> str:
		message = EmailMessage()
		message["From"] = sender
		message["To"] = recipient
		message["Subject"] = "press_selfhost doctor: test message"
		message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
		message.set_content(
			"This message was sent by `press-selfhost doctor --send-test-mail` to prove that "
			"Press's outgoing mail leaves through Postal. No action is needed."
		)
		try:
			with smtplib.SMTP(host, port, timeout=timeout) as smtp:
				smtp.ehlo()
				if use_tls:
					smtp.starttls()
					smtp.ehlo()
				if username or password:
					smtp.login(username, password)
				refused = smtp.send_message(message)
		except smtplib.SMTPAuthenticationError as error:
			raise CheckFailed(
				f"SMTP at {where} refused the login for '{username}' ({error.smtp_code})",
				"Copy the SMTP credential from Postal into postal_smtp_username/postal_smtp_password.",
			) from None
		except smtplib.SMTPSenderRefused as error:
			raise CheckFailed(
				f"SMTP at {where} refused the sender {sender} ({error.smtp_code})",
				f"Add and verify the domain of {sender} in Postal for this mail server.",
			) from None
		except smtplib.SMTPRecipientsRefused:
			raise CheckFailed(
				f"SMTP at {where} refused the recipient {recipient}",
				"Check bootstrap_admin_email, and that Postal may send to it.",
			) from None
		except (OSError, smtplib.SMTPException) as error:
			raise CheckFailed(
				f"SMTP at {where} did not take the test message ({type(error).__name__})",
				"Start Postal's SMTP server and check postal_smtp_host and postal_smtp_port.",
			) from None
		if refused:
			raise CheckFailed(
				f"SMTP at {where} refused the recipient {recipient}",
				"Check bootstrap_admin_email, and that Postal may send to it.",
			)
		return f"{where} accepted a test message from {sender} to {recipient}"

	return Check("Outgoing mail", probe, timeout=timeout * 3)


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


def keycloak_client_check(
	credentials: AdminCredentials, realm: str, client_id: str, callback_url: str
) -> Check:
	"""Keycloak sends the browser back only to a redirect URI registered on the dashboard's client,
	so a missing client or URI breaks every login; read through the admin API, nothing is changed."""

	def probe() -> str:
		try:
			found = KeycloakAdmin(credentials).get(f"/{quote(realm)}/clients?clientId={quote(client_id)}")
		except ConfigurationError as error:
			raise CheckFailed(
				str(error), "Check keycloak_admin_username and keycloak_admin_password."
			) from None
		if found is None:
			raise CheckFailed(f"Keycloak has no realm '{realm}'", KEYCLOAK_BOOTSTRAP_FIX)
		client = next((c for c in found if c.get("clientId") == client_id), None)
		if client is None:
			raise CheckFailed(f"realm '{realm}' has no client '{client_id}'", KEYCLOAK_BOOTSTRAP_FIX)
		problems = []
		if client.get("enabled") is False:
			problems.append("is disabled")
		if client.get("publicClient"):
			problems.append("is public, not confidential")
		if not _redirect_allowed(callback_url, client.get("redirectUris") or []):
			problems.append(f"does not allow the redirect URI {callback_url}")
		if problems:
			raise CheckFailed(f"client '{client_id}' {' and '.join(problems)}", KEYCLOAK_BOOTSTRAP_FIX)
		return f"client '{client_id}' of realm '{realm}' redirects to {callback_url}"

	return Check(
		"Keycloak dashboard client",
		probe,
		timeout=credentials.timeout * 3,
		fix_on_error="Start Keycloak and check keycloak_url in Selfhost Settings.",
	)


def _redirect_allowed(url: str, registered: list[str]) -> bool:
	"""Keycloak's own rule: an exact URI, or one ending in '*' that matches as a prefix."""
	return any(url == uri or (uri.endswith("*") and url.startswith(uri[:-1])) for uri in registered)


def dashboard_callback_url(domain: str) -> str:
	"""Where Keycloak sends the browser back after a dashboard login."""
	return f"https://{dashboard_host(domain)}{KEYCLOAK_CALLBACK_PATH}"


def dashboard_host(domain: str) -> str:
	"""Press's own site: the dashboard is cloud.<domain>."""
	return f"cloud.{domain}"


def lago_webhook_url(domain: str) -> str:
	"""Press's public webhook URL: what Lago sends to when it runs outside the compose stack."""
	return f"https://{dashboard_host(domain)}{LAGO_WEBHOOK_PATH}"


# compose/: Traefik's internal `webhooks` entrypoint (never published) passes this one path to
# Press with Press's site name, so Lago reaches Press inside the stack whatever DOMAIN resolves to
# (`localhost` included). tests/test_compose_agent_route.py drives this URL through the real Traefik.
STACK_LAGO_WEBHOOK_URL = f"http://traefik:8081{LAGO_WEBHOOK_PATH}"


def lago_webhook_urls(domain: str) -> tuple[str, str]:
	"""Where Lago may send its webhooks: inside the compose stack, or Press's public URL."""
	return (STACK_LAGO_WEBHOOK_URL, lago_webhook_url(domain))


def proxy_agent_url(proxy_address: str) -> str:
	"""proxy_server_private_ip as a URL: a full URL as is, `host:port`, or a host on the service's port."""
	if "://" in proxy_address:
		return proxy_address.rstrip("/")
	if proxy_address.count(":") == 1 or proxy_address.startswith("["):
		return f"http://{proxy_address}"
	host = f"[{proxy_address}]" if ":" in proxy_address else proxy_address  # a bare IPv6 address
	return f"http://{host}:{PROXY_AGENT_PORT}"


def _ping_check(name: str, url: str, password: str, fields: tuple[str, str], timeout: float) -> Check:
	url_field, password_field = fields

	def probe() -> str:
		client = AgentClient(
			AgentSettings(url, password, connect_timeout=timeout, read_timeout=timeout, retries=0)
		)
		try:
			answered = client.ping()
		except ServiceRejectedError as error:
			if error.status_code == 401:
				raise CheckFailed(
					f"{url} refused the password",
					f"Set {password_field} in Selfhost Settings to the password that agent was set up with.",
				) from None
			raise CheckFailed(
				f"{url} refused the ping ({error})",
				f"Point {url_field} at the agent itself (its /ping must answer).",
			) from None
		except ServiceError as error:
			raise CheckFailed(
				f"{url} is unreachable ({error})",
				f"Start the agent and check {url_field} in Selfhost Settings.",
			) from None
		if not answered:
			raise CheckFailed(
				f"{url} answered the ping without 'pong'",
				f"Point {url_field} at the agent itself, not at another web server.",
			)
		return f"{url} answers ping with the stored password"

	return Check(name, probe, timeout=timeout * 3, fix_on_error=f"Check {url_field} and {password_field}.")


def agent_ping_check(agent_url: str, password: str, *, timeout: float = 5.0) -> Check:
	"""Press sends every site job to the stock Agent, authenticated by agent_password."""
	return _ping_check("Agent ping", agent_url, password, ("agent_url", "agent_password"), timeout)


def proxy_agent_ping_check(proxy_address: str, password: str, *, timeout: float = 5.0) -> Check:
	"""Press sends its proxy jobs to press_selfhost's proxy service with the Proxy Server's password."""
	return _ping_check(
		"Proxy service ping",
		proxy_agent_url(proxy_address),
		password,
		("proxy_server_private_ip", "proxy_agent_password"),
		timeout,
	)


def routing_endpoint_check(press_url: str, domain: str, token: str, *, timeout: float = 5.0) -> Check:
	"""Traefik polls this endpoint with the token for every route; without it no site is reachable.

	The request is Traefik's: X-Traefik-Token, and cloud.<domain> as the Host and the Frappe site.
	"""
	url = press_url.rstrip("/") + ROUTING_CONFIG_PATH
	site = dashboard_host(domain)

	def probe() -> str:
		try:
			response = requests.get(
				url,
				headers={
					"X-Traefik-Token": token,
					"Host": site,
					"X-Frappe-Site-Name": site,
					"Accept": "application/json",
				},
				timeout=timeout,
			)
		except requests.RequestException as error:
			raise CheckFailed(
				f"{url} is unreachable ({type(error).__name__})",
				"Start Press's web server and check press_upstream_url in Selfhost Settings.",
			) from None
		if response.status_code in (401, 403):
			raise CheckFailed(
				f"the routing endpoint refused the token (HTTP {response.status_code})",
				"Set traefik_config_token to the token in Traefik's providers.http headers (compose/.env).",
			)
		if response.status_code == 404:
			raise CheckFailed(
				f"{url} for site {site} answered HTTP 404",
				"Check domain (the Press site must be cloud.<domain>) and that press_selfhost is installed on it.",
			)
		if response.status_code != 200:
			raise CheckFailed(
				f"{url} answered HTTP {response.status_code}",
				"Read Press's error log: the routing endpoint must answer 200.",
			)
		try:
			document = response.json()
		except ValueError:
			document = None
		routers = document.get("http", {}).get("routers") if isinstance(document, Mapping) else None
		if not isinstance(routers, Mapping):
			raise CheckFailed(
				f"{url} did not answer with a Traefik configuration",
				"Point press_upstream_url at Press's web server, not at a proxy page.",
			)
		return f"{site} serves Traefik {len(routers)} router(s) for the token"

	return Check(
		"Traefik routing endpoint",
		probe,
		timeout=timeout * 2,
		fix_on_error="Check press_upstream_url, domain and traefik_config_token.",
	)


def minio_buckets_check(settings: s3.StorageSettings, *, timeout: float = 10.0) -> Check:
	"""Backups and files need the buckets as ensure_buckets leaves them; this only reads them."""

	def probe() -> str:
		try:
			drift = s3.bucket_drift(s3.storage_client(settings), settings)
		except ServiceRejectedError as error:
			raise CheckFailed(
				f"MinIO refused to show the buckets ({error})",
				"Check minio_access_key/minio_secret_key and that the key may read bucket configuration.",
			) from None
		except ServiceError as error:
			raise CheckFailed(
				f"MinIO at {settings.endpoint_url} is unreachable ({error})",
				"Start MinIO and check minio_endpoint_url in Selfhost Settings.",
			) from None
		if drift:
			raise CheckFailed(
				"; ".join(drift),
				"Run `bench --site <site> press-selfhost bootstrap` to set the buckets up again.",
			)
		buckets = (settings.backups_bucket, settings.private_bucket, settings.public_bucket)
		return f"buckets {', '.join(buckets)} match their configuration"

	return Check(
		"MinIO buckets and policies",
		probe,
		timeout=timeout * 3,
		fix_on_error="Check minio_endpoint_url and the MinIO keys in Selfhost Settings.",
	)


def _lago_webhook_urls(api_url: str, api_key: str) -> list[str]:
	try:
		return LagoGateway(api_url, api_key).webhook_endpoint_urls()
	except ServiceRejectedError as error:
		if error.status_code == 401:
			raise CheckFailed(
				"Lago refused the API key (HTTP 401)",
				"Copy the API key from Lago (Developers → API keys) into lago_api_key.",
			) from None
		raise CheckFailed(
			f"Lago refused to list webhook endpoints ({error})",
			"Check lago_api_url: it must be Lago's API, for example http://lago-api:3000.",
		) from None
	except ServiceError as error:
		raise CheckFailed(
			f"Lago at {api_url} is unreachable ({error})",
			"Start Lago's API and check lago_api_url in Selfhost Settings.",
		) from None


def lago_api_key_check(api_url: str, api_key: str, *, timeout: float = 10.0) -> Check:
	"""Every billing call carries this key; listing webhook endpoints is a cheap authenticated read."""

	def probe() -> str:
		_lago_webhook_urls(api_url, api_key)
		return f"Lago at {api_url} accepts the API key"

	return Check("Lago API key", probe, timeout=timeout, fix_on_error="Check lago_api_url and lago_api_key.")


def lago_webhook_check(api_url: str, api_key: str, domain: str, *, timeout: float = 10.0) -> Check:
	"""Payments and suspensions reach Press only through Lago's webhook to our endpoint."""
	accepted = lago_webhook_urls(domain)

	def probe() -> str:
		urls = _lago_webhook_urls(api_url, api_key)
		found = [url for url in accepted if url in {url.rstrip("/") for url in urls}]
		if not found:
			stack_url, public_url = accepted
			raise CheckFailed(
				f"Lago has no webhook endpoint {stack_url} or {public_url} ({len(urls)} other endpoint(s))",
				f"Add {stack_url} (Lago in the compose stack) or {public_url} (Lago elsewhere) in"
				" Lago → Developers → Webhooks.",
			)
		return f"Lago sends its webhooks to {found[0]}"

	return Check("Lago webhook", probe, timeout=timeout, fix_on_error="Check lago_api_url and lago_api_key.")


def postal_api_key_check(postal_url: str, server_api_key: str, *, timeout: float = 5.0) -> Check:
	"""Press's mail goes through Postal's HTTP API; see PostalClient.verify_api_key for the probe."""

	def probe() -> str:
		try:
			PostalClient(postal_url, server_api_key, timeout=timeout).verify_api_key()
		except ServiceRejectedError as error:
			if error.code in ("InvalidServerAPIKey", "AccessDenied"):
				raise CheckFailed(
					f"Postal refused the server API key ({error.code})",
					"Create an API credential for the mail server in Postal and put it in postal_server_api_key.",
				) from None
			raise CheckFailed(
				f"Postal did not answer as expected ({error})",
				"Check postal_url: it must be Postal's web server, for example http://postal-web:5000.",
			) from None
		except ServiceError as error:
			raise CheckFailed(
				f"Postal at {postal_url} is unreachable ({error})",
				"Start Postal and check postal_url in Selfhost Settings.",
			) from None
		return f"Postal at {postal_url} accepts the server API key"

	return Check(
		"Postal API key",
		probe,
		timeout=timeout * 2,
		fix_on_error="Check postal_url and postal_server_api_key.",
	)


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
