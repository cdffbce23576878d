"""Validation of Selfhost Settings, kept out of the DocType so it runs and is tested without a bench.

The rules are data: which fields hold URLs, and which fields only make sense together (an endpoint
without its credential is a platform that fails at 3 a.m. instead of at save time).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from press_selfhost.errors import ConfigurationError
from press_selfhost.identity.rules import login_domains

URL_FIELDS = {
	"lago_api_url": "Lago API URL",
	"lago_front_url": "Lago front-end URL",
	"lago_webhook_issuer": "Lago webhook issuer",
	"keycloak_url": "Keycloak URL",
	"postal_url": "Postal URL",
	"minio_endpoint_url": "MinIO endpoint URL",
	"agent_url": "Agent URL",
	"press_upstream_url": "Press upstream URL",
	"lago_front_upstream_url": "Lago front-end upstream URL",
	"status_page_url": "Status page URL",
}


@dataclass(frozen=True)
class RequiredTogether:
	"""When `trigger` is set, every field of `requires` must be set too."""

	system: str
	trigger: str
	requires: tuple[str, ...]


REQUIRED_TOGETHER = (
	RequiredTogether("Lago", "lago_api_url", ("lago_api_key",)),
	RequiredTogether("Lago", "lago_front_url", ("lago_api_url",)),
	RequiredTogether(
		"Keycloak", "keycloak_url", ("keycloak_realm", "keycloak_client_id", "keycloak_client_secret")
	),
	RequiredTogether("Keycloak", "keycloak_admin_username", ("keycloak_url", "keycloak_admin_password")),
	RequiredTogether("Keycloak", "keycloak_google_client_id", ("keycloak_google_client_secret",)),
	RequiredTogether("Keycloak", "keycloak_github_client_id", ("keycloak_github_client_secret",)),
	RequiredTogether("Postal", "postal_url", ("postal_server_api_key", "postal_from_address")),
	RequiredTogether("Postal", "postal_smtp_host", ("postal_smtp_port", "postal_smtp_password")),
	RequiredTogether(
		"MinIO",
		"minio_endpoint_url",
		("minio_access_key", "minio_secret_key", "backups_bucket", "backup_encryption_key"),
	),
	RequiredTogether("Agent", "agent_url", ("agent_password",)),
)

HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def settings_problems(values: Mapping[str, object]) -> list[str]:
	"""Every problem with `values` (a Selfhost Settings record as a dict), in a stable order."""
	problems = []
	domain = _text(values, "domain")
	if domain and not HOSTNAME.match(domain):
		problems.append(f"Domain '{domain}' is not a host name such as example.com (lower case, no scheme).")
	for fieldname, label in URL_FIELDS.items():
		url = _text(values, fieldname)
		if url and (problem := url_problem(url)):
			problems.append(f"{label}: {problem}")
	for rule in REQUIRED_TOGETHER:
		if _text(values, rule.trigger):
			missing = [fieldname for fieldname in rule.requires if not _text(values, fieldname)]
			if missing:
				problems.append(
					f"{rule.system}: {rule.trigger} is set, so {', '.join(missing)} must be set too."
				)
	if _text(values, "lago_webhook_signature_algorithm") == "hmac" and not _text(values, "lago_hmac_key"):
		problems.append("Lago: webhooks are signed with HMAC, so lago_hmac_key must be set.")
	sender = _text(values, "postal_from_address")
	if sender and not EMAIL.match(sender):
		problems.append(f"Postal: from address '{sender}' is not an e-mail address.")
	try:
		login_domains(_text(values, "keycloak_login_domains"))
	except ConfigurationError as error:
		problems.append(str(error))
	port = values.get("postal_smtp_port")
	if port not in (None, "", 0) and not (isinstance(port, int) and 0 < port < 65536):
		problems.append("Postal: postal_smtp_port must be a port number between 1 and 65535.")
	return problems


def validate_settings(values: Mapping[str, object]) -> None:
	"""Raise ConfigurationError listing every problem, so the admin fixes them in one pass."""
	problems = settings_problems(values)
	if problems:
		raise ConfigurationError("\n".join(problems))


def url_problem(url: str) -> str | None:
	"""Why `url` cannot be a service base URL, or None when it can."""
	try:
		parts = urlsplit(url)
		port = parts.port
	except ValueError:
		return f"'{url}' is not a valid URL."
	if parts.scheme not in ("http", "https"):
		return f"'{url}' must start with http:// or https://."
	if not parts.hostname:
		return f"'{url}' has no host."
	if parts.username or parts.password:
		# Credentials in a URL end up in logs; each has its own Password field.
		return "must not contain a user name or password; use the credential fields."
	if parts.query or parts.fragment:
		return f"'{url}' must not have a query string or fragment."
	if port == 0:
		return f"'{url}' has port 0."
	return None


def _text(values: Mapping[str, object], fieldname: str) -> str:
	value = values.get(fieldname)
	return value.strip() if isinstance(value, str) else ("" if value in (None, 0) else str(value))
