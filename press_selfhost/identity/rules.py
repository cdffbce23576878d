"""The rules of single sign-on that do not depend on Frappe: where a login may return to, and which
Press user a verified Keycloak identity is.

Frappe's own OAuth login took the redirect target from the state (open redirect) and matched users
by e-mail whether verified or not (account takeover); these two functions are the replacement rules.
The last part says which e-mail domains Press's dashboard offers the Keycloak login to.
"""

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from press_selfhost.errors import AuthenticationError, ConfigurationError
from press_selfhost.identity.keycloak import Identity

DEFAULT_RETURN_PATH = "/dashboard"
# Browsers read a backslash as a slash ("/\evil.example" is "//evil.example") and drop tabs and
# newlines inside URLs, so any of them makes a return path suspect.
_SUSPECT = re.compile(r"[\\\x00-\x20\x7f]")


def safe_return_path(
	requested: str | None, own_hosts: Iterable[str], default: str = DEFAULT_RETURN_PATH
) -> str:
	"""`requested` when it stays on our own hosts (a relative path, or an http(s) URL of `own_hosts`), else `default`."""
	if not requested or _SUSPECT.search(requested):
		return default
	if requested.startswith("/"):
		# "//host/..." is protocol-relative: another site.
		return default if requested.startswith("//") else requested
	try:
		parts = urlsplit(requested)
		hostname = parts.hostname
		parts.port  # noqa: B018 (raises ValueError on a malformed port)
	except ValueError:
		return default
	allowed = {host.lower() for host in own_hosts}
	if (
		parts.scheme in ("http", "https")
		and hostname in allowed
		and not parts.username
		and not parts.password
	):
		return requested
	return default


class LoginOutcome(enum.Enum):
	KNOWN = "known"  # the Keycloak subject is already linked to this user
	LINK_EXISTING = "link existing"  # first SSO login of an existing user, by verified e-mail
	CREATE = "create"  # nobody has this verified e-mail yet: create the user (and later the team)


@dataclass(frozen=True)
class LoginDecision:
	outcome: LoginOutcome
	user: str


def decide_login(
	identity: Identity, user_for_subject: str | None, user_for_email: str | None
) -> LoginDecision:
	"""Which user `identity` logs in as. The stored subject decides; an e-mail counts only when Keycloak
	says it is verified, so nobody takes over an account by typing its address into their profile."""
	if user_for_subject:
		return LoginDecision(LoginOutcome.KNOWN, user_for_subject)
	if not identity.email:
		raise AuthenticationError("Keycloak sent no e-mail address; add the 'email' scope to the client")
	if not identity.email_verified:
		raise AuthenticationError(f"the e-mail address {identity.email} is not verified in Keycloak yet")
	if user_for_email:
		return LoginDecision(LoginOutcome.LINK_EXISTING, user_for_email)
	return LoginDecision(LoginOutcome.CREATE, identity.email.lower())


# -- the dashboard's login page ----------------------------------------------------------------------
# The `social_login_key` our entries carry: the dashboard sends it back to Press's
# oauth_authorize_url, which press_selfhost overrides to answer with its own login route.
DASHBOARD_PROVIDER = "keycloak"
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def login_domains(text: str | None) -> tuple[str, ...]:
	"""The e-mail domains of `keycloak_login_domains` (one per line or comma-separated, a leading
	'@' allowed), lower case and without repeats; ConfigurationError names the first bad one."""
	domains: list[str] = []
	for item in re.split(r"[\s,;]+", text or ""):
		domain = item.strip().removeprefix("@").lower()
		if not domain:
			continue
		if not _DOMAIN.match(domain):
			raise ConfigurationError(
				f"Keycloak: '{item}' in keycloak_login_domains is not an e-mail domain such as example.com."
			)
		if domain not in domains:
			domains.append(domain)
	return tuple(domains)


def dashboard_oauth_domains(
	press_entries: Iterable[Mapping[str, str]], domains: Iterable[str], provider_name: str
) -> list[dict]:
	"""Press's `oauth_domains` (its OAuth Domain Mapping records) with ours added. Press's dashboard
	shows "Log in with <provider_name>" instead of the password field when the typed e-mail's domain
	is listed; ours replace Press's entry for the same domain."""
	ours = list(domains)
	kept = [dict(entry) for entry in press_entries if str(entry.get("email_domain", "")).lower() not in ours]
	return kept + [
		{"email_domain": domain, "social_login_key": DASHBOARD_PROVIDER, "provider_name": provider_name}
		for domain in ours
	]
