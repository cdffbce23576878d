"""Keycloak's Admin REST API: the idempotent bootstrap of the `cloud` realm and per-site SSO clients.

`ensure_realm` reads every object first and writes only what differs from the policy, so running it
on every settings save or deploy is safe: a second run sends GETs only, a changed setting updates
only that object. Keycloak masks stored secrets (SMTP password, identity-provider client secrets)
on read, so they cannot be compared: they are written when an object is created, and again only
when the caller says they changed (`write_secrets`).
"""

import enum
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from press_selfhost.errors import ConfigurationError, ServiceRejectedError, ServiceUnavailableError

SERVICE = "Keycloak admin API"
OTP_REQUIRED_ACTION = "CONFIGURE_TOTP"
BROWSER_FLOW = "browser"  # Keycloak's built-in browser login flow
ADMIN_OTP_FLOW = "press-selfhost-browser"  # ours; exists and is bound only while 2FA is ADMINS
POST_BROKER_FLOW = "press-selfhost-post-broker"  # ours; each IdP's post-login flow while 2FA is not OFF
# Keycloak's mask of a stored secret on read, and what a PUT sends to keep it (SECRET_VALUE).
KEYCLOAK_SECRET_MASK = "**********"  # noqa: S105 (a mask, not a password)


class TwoFactor(enum.Enum):
	"""OFF: no OTP set-up offered. OPTIONAL: users may add OTP. REQUIRED: every new user sets OTP up.
	ADMINS: users with the admin role must use OTP (and set it up at their next login); others may."""

	OFF = "off"
	OPTIONAL = "optional"
	REQUIRED = "required"
	ADMINS = "required for admins"


@dataclass(frozen=True)
class AdminCredentials:
	"""An admin of the `master` realm (Keycloak's KEYCLOAK_ADMIN), logging in through `admin-cli`."""

	server_url: str
	username: str
	password: str = field(repr=False)
	timeout: float = 10.0


@dataclass(frozen=True)
class DashboardClient:
	"""The confidential OpenID client the Press dashboard logs in with."""

	client_id: str
	secret: str = field(repr=False)
	redirect_uris: tuple[str, ...]
	post_logout_redirect_uris: tuple[str, ...]
	web_origins: tuple[str, ...]
	backchannel_logout_url: str


@dataclass(frozen=True)
class IdentityProvider:
	"""Google or GitHub login through Keycloak's broker (callback {issuer}/broker/{alias}/endpoint)."""

	provider: str  # "google" or "github"; also the alias
	client_id: str
	client_secret: str = field(repr=False)
	enabled: bool = True


@dataclass(frozen=True)
class RealmMail:
	"""The realm's outgoing mail (verification, password reset): Postal's SMTP."""

	host: str
	port: int
	from_address: str
	username: str
	password: str = field(repr=False)
	from_name: str = "Cloud"
	starttls: bool = True


@dataclass(frozen=True)
class RealmPolicy:
	dashboard: DashboardClient
	realm: str = "cloud"
	display_name: str = "Cloud"
	roles: tuple[str, ...] = ("press-admin", "press-member")
	two_factor: TwoFactor = TwoFactor.OPTIONAL
	admin_role: str = "press-admin"  # whose members must use OTP when two_factor is ADMINS
	brute_force_protection: bool = True
	password_policy: str = "length(12) and notUsername and notEmail"  # noqa: S105 (a policy, not a password)
	identity_providers: tuple[IdentityProvider, ...] = ()
	mail: RealmMail | None = None


@dataclass(frozen=True)
class Change:
	"""One write `ensure_realm` made: ("created" | "updated" | "deleted", what, name)."""

	action: str
	kind: str
	name: str


@dataclass(frozen=True)
class FlowStep:
	"""One execution of an authentication flow: an authenticator (`provider`, with an optional
	config stored under `config_alias`), or a sub-flow (`subflow`, its alias) with its own `steps`."""

	requirement: str
	provider: str = ""
	subflow: str = ""
	config: tuple[tuple[str, str], ...] = ()
	config_alias: str = ""
	steps: tuple["FlowStep", ...] = ()


class KeycloakAdmin:
	"""A small client of the Admin REST API: logs in once, logs in again when the token expires."""

	def __init__(self, credentials: AdminCredentials, http: requests.Session | None = None):
		self.credentials = credentials
		self.base = credentials.server_url.rstrip("/")
		self.http = http or requests.Session()
		self._token: str | None = None
		self._token_expires = 0.0

	def get(self, path: str) -> dict | list | None:
		"""The representation at `path`, or None when Keycloak has no such object (404)."""
		response = self._call("GET", path, expected=(200, 404))
		return None if response.status_code == 404 else response.json()

	def create(self, path: str, body: dict) -> None:
		self._call("POST", path, json=body, expected=(201, 204))

	def update(self, path: str, body: dict) -> None:
		self._call("PUT", path, json=body, expected=(200, 204))

	def delete(self, path: str) -> bool:
		"""True when something was deleted, False when it was already gone."""
		return self._call("DELETE", path, expected=(204, 404)).status_code == 204

	def _call(self, method: str, path: str, expected: tuple[int, ...], json: dict | None = None):
		for attempt in (1, 2):
			response = self._send(method, f"{self.base}/admin/realms{path}", json=json, headers=self._auth())
			if response.status_code == 401 and attempt == 1:
				self._token = None  # expired or revoked early: log in again, once
				continue
			break
		if response.status_code in expected:
			return response
		if response.status_code == 401:
			raise ConfigurationError("Keycloak refused our admin token; check the admin user's permissions.")
		if response.status_code == 403:
			raise ConfigurationError(
				f"Keycloak: the admin user may not {method} {path}; give it the realm-admin role of master."
			)
		raise ServiceRejectedError(
			SERVICE, f"{method} {path} was refused: {_error_text(response)}", status_code=response.status_code
		)

	def _auth(self) -> dict:
		if self._token is None or time.monotonic() > self._token_expires:
			response = self._send(
				"POST",
				f"{self.base}/realms/master/protocol/openid-connect/token",
				data={
					"grant_type": "password",
					"client_id": "admin-cli",
					"username": self.credentials.username,
					"password": self.credentials.password,
				},
			)
			if response.status_code in (400, 401):
				raise ConfigurationError(
					"Keycloak refused the admin login: check keycloak_admin_username and keycloak_admin_password."
				)
			if response.status_code != 200:
				raise ServiceRejectedError(
					SERVICE, "the admin login failed", status_code=response.status_code
				)
			answer = response.json()
			self._token = answer["access_token"]
			# Renew a little early so a long bootstrap never sends a token that expires on the way.
			self._token_expires = time.monotonic() + max(int(answer.get("expires_in", 60)) - 10, 1)
		return {"Authorization": f"Bearer {self._token}"}

	def _send(self, method: str, url: str, **kwargs) -> requests.Response:
		try:
			response = self.http.request(method, url, timeout=self.credentials.timeout, **kwargs)
		except requests.RequestException as error:
			raise ServiceUnavailableError(
				SERVICE, f"cannot reach {self.base}: {type(error).__name__}"
			) from None
		if response.status_code >= 500 or response.status_code == 429:
			raise ServiceUnavailableError(SERVICE, f"{method} {url} failed", status_code=response.status_code)
		return response


# -- the realm ------------------------------------------------------------------------------------
def ensure_realm(admin: KeycloakAdmin, policy: RealmPolicy, *, write_secrets: bool = False) -> list[Change]:
	"""Make realm `policy.realm` match the policy; return the writes made (none when it already did)."""
	changes: list[Change] = []
	realm_path = f"/{quote(policy.realm)}"
	desired_realm = _realm_representation(policy)
	current = admin.get(realm_path)
	if current is None:
		admin.create("", {**desired_realm, **_realm_secrets(policy)})
		changes.append(Change("created", "realm", policy.realm))
	elif (write_secrets and policy.mail) or differs(desired_realm, current):
		admin.update(realm_path, {**desired_realm, **_realm_secrets(policy, keep_stored=not write_secrets)})
		changes.append(Change("updated", "realm", policy.realm))

	for role in policy.roles:
		if admin.get(f"{realm_path}/roles/{quote(role)}") is None:
			admin.create(f"{realm_path}/roles", {"name": role})
			changes.append(Change("created", "realm role", role))

	changes += ensure_client(admin, policy.realm, _dashboard_representation(policy.dashboard), write_secrets)
	changes += _ensure_two_factor(admin, policy)
	changes += _ensure_post_broker_flow(admin, policy)
	post_broker_flow = POST_BROKER_FLOW if policy.two_factor is not TwoFactor.OFF else None
	for identity_provider in policy.identity_providers:
		changes += _ensure_identity_provider(
			admin, policy.realm, identity_provider, write_secrets, post_broker_flow
		)
	return changes


def _realm_representation(policy: RealmPolicy) -> dict:
	representation = {
		"realm": policy.realm,
		"enabled": True,
		"displayName": policy.display_name,
		"loginWithEmailAllowed": True,
		"duplicateEmailsAllowed": False,
		"verifyEmail": True,
		"resetPasswordAllowed": True,
		"bruteForceProtected": policy.brute_force_protection,
		"permanentLockout": False,
		"failureFactor": 10,
		"waitIncrementSeconds": 60,
		"maxFailureWaitSeconds": 900,
		"passwordPolicy": policy.password_policy,
		"otpPolicyType": "totp",
		"otpPolicyAlgorithm": "HmacSHA1",  # what authenticator apps support
		"otpPolicyDigits": 6,
		"otpPolicyPeriod": 30,
	}
	if policy.mail:
		mail = policy.mail
		representation["smtpServer"] = {
			"host": mail.host,
			"port": str(mail.port),
			"from": mail.from_address,
			"fromDisplayName": mail.from_name,
			"auth": "true",
			"user": mail.username,
			"starttls": "true" if mail.starttls else "false",
			"ssl": "false",
		}
	return representation


def _realm_secrets(policy: RealmPolicy, *, keep_stored: bool = False) -> dict:
	"""The SMTP settings with their password: Keycloak replaces `smtpServer` wholesale on a realm PUT
	and keeps the stored password only when the PUT sends its mask, so an update that is not meant
	to change the password sends the mask rather than leaving the password out."""
	if not policy.mail:
		return {}
	password = KEYCLOAK_SECRET_MASK if keep_stored else policy.mail.password
	return {"smtpServer": {**_realm_representation(policy)["smtpServer"], "password": password}}


def _dashboard_representation(client: DashboardClient) -> dict:
	return confidential_client(
		client.client_id,
		client.secret,
		name="Press dashboard",
		redirect_uris=client.redirect_uris,
		post_logout_redirect_uris=client.post_logout_redirect_uris,
		web_origins=client.web_origins,
		backchannel_logout_url=client.backchannel_logout_url,
	)


def confidential_client(
	client_id: str,
	secret: str,
	*,
	name: str,
	redirect_uris: Sequence[str],
	post_logout_redirect_uris: Sequence[str],
	web_origins: Sequence[str],
	backchannel_logout_url: str,
) -> dict:
	return {
		"clientId": client_id,
		"name": name,
		"enabled": True,
		"protocol": "openid-connect",
		"publicClient": False,
		"clientAuthenticatorType": "client-secret",
		"secret": secret,
		"standardFlowEnabled": True,
		"implicitFlowEnabled": False,
		"directAccessGrantsEnabled": False,
		"serviceAccountsEnabled": False,
		"frontchannelLogout": False,
		"redirectUris": list(redirect_uris),
		"webOrigins": list(web_origins),
		"attributes": {
			"pkce.code.challenge.method": "S256",
			"post.logout.redirect.uris": "##".join(post_logout_redirect_uris),
			"backchannel.logout.url": backchannel_logout_url,
			"backchannel.logout.session.required": "true",
		},
	}


def ensure_client(admin: KeycloakAdmin, realm: str, desired: dict, write_secrets: bool) -> list[Change]:
	clients_path = f"/{quote(realm)}/clients"
	current = find_client(admin, realm, desired["clientId"])
	if current is None:
		admin.create(clients_path, desired)
		return [Change("created", "client", desired["clientId"])]
	compared = {key: value for key, value in desired.items() if key != "secret"}
	if write_secrets or differs(compared, current):
		body = {
			**current,
			**desired,
			"attributes": {**current.get("attributes", {}), **desired["attributes"]},
		}
		if not write_secrets:
			body.pop("secret", None)
		admin.update(f"{clients_path}/{current['id']}", body)
		return [Change("updated", "client", desired["clientId"])]
	return []


def find_client(admin: KeycloakAdmin, realm: str, client_id: str) -> dict | None:
	found = admin.get(f"/{quote(realm)}/clients?clientId={quote(client_id)}") or []
	return next((client for client in found if client.get("clientId") == client_id), None)


def _ensure_two_factor(admin: KeycloakAdmin, policy: RealmPolicy) -> list[Change]:
	path = f"/{quote(policy.realm)}/authentication/required-actions/{OTP_REQUIRED_ACTION}"
	current = admin.get(path)
	if current is None:
		raise ServiceRejectedError(
			SERVICE,
			f"realm '{policy.realm}' has no {OTP_REQUIRED_ACTION} required action; is it a Keycloak realm?",
		)
	desired = {
		"enabled": policy.two_factor is not TwoFactor.OFF,
		"defaultAction": policy.two_factor is TwoFactor.REQUIRED,
	}
	changes = []
	if differs(desired, current):
		admin.update(path, {**current, **desired})
		changes.append(Change("updated", "required action", OTP_REQUIRED_ACTION))
	return changes + _ensure_admin_otp_flow(admin, policy)


def admin_otp_flow(role: str) -> tuple[FlowStep, ...]:
	"""Keycloak's browser flow with OTP forced on members of `role` (an OTP Form that is REQUIRED for a
	user without OTP makes Keycloak ask them to set one up); everyone else is asked for an OTP only
	once they set one up themselves, as in the built-in flow."""
	return (
		FlowStep("ALTERNATIVE", "auth-cookie"),
		FlowStep("ALTERNATIVE", "identity-provider-redirector"),  # /auth/keycloak/login?provider=google
		FlowStep(
			"ALTERNATIVE",
			subflow=f"{ADMIN_OTP_FLOW}-forms",
			steps=(FlowStep("REQUIRED", "auth-username-password-form"), *_otp_for_role(ADMIN_OTP_FLOW, role)),
		),
	)


def post_broker_otp_flow(two_factor: TwoFactor, role: str) -> tuple[FlowStep, ...] | None:
	"""What Keycloak runs after each login through Google or GitHub (the IdP's post-login flow), which
	skips the browser flow: the OTP the browser flow would ask for. None when 2FA is OFF.

	Keycloak refuses a login whose post-login flow succeeded in nothing (AuthenticationProcessor
	.authenticateOnly): a flow of conditional sub-flows only fails for a user none of them applies
	to. So those flows end with a REQUIRED "Allow access"."""
	otp = FlowStep("REQUIRED", "auth-otp-form")
	allow = FlowStep("REQUIRED", "allow-access-authenticator")
	if two_factor is TwoFactor.OFF:
		return None
	if two_factor is TwoFactor.REQUIRED:
		return (otp,)  # everyone; Keycloak asks those without OTP to set one up
	if two_factor is TwoFactor.OPTIONAL:
		configured = FlowStep("REQUIRED", "conditional-user-configured")
		return (FlowStep("CONDITIONAL", subflow=f"{POST_BROKER_FLOW}-otp", steps=(configured, otp)), allow)
	return (*_otp_for_role(POST_BROKER_FLOW, role), allow)


def _otp_for_role(prefix: str, role: str) -> tuple[FlowStep, FlowStep]:
	"""Two conditional sub-flows: OTP for members of `role` (set up if missing), and OTP for everyone
	else who has set one up."""
	admins, others = f"{prefix}-admin-otp", f"{prefix}-optional-otp"
	otp = FlowStep("REQUIRED", "auth-otp-form")
	return (
		FlowStep(
			"CONDITIONAL",
			subflow=admins,
			steps=(
				FlowStep(
					"REQUIRED",
					"conditional-user-role",
					config=(("condUserRole", role), ("negate", "false")),
					config_alias=f"{admins}-role",
				),
				otp,
			),
		),
		FlowStep(
			"CONDITIONAL",
			subflow=others,
			steps=(
				FlowStep("REQUIRED", "conditional-user-configured"),
				FlowStep(
					"REQUIRED",
					"conditional-user-role",
					config=(("condUserRole", role), ("negate", "true")),
					config_alias=f"{others}-role",
				),
				otp,
			),
		),
	)


def _ensure_admin_otp_flow(admin: KeycloakAdmin, policy: RealmPolicy) -> list[Change]:
	"""With ADMINS: our flow exists as admin_otp_flow says and is the realm's browser flow. Otherwise
	the built-in browser flow is bound again and ours deleted. A flow that differs is rebuilt."""
	realm_path = f"/{quote(policy.realm)}"
	wanted = policy.two_factor is TwoFactor.ADMINS
	steps = admin_otp_flow(policy.admin_role)
	existing, keep = _our_flow(admin, policy.realm, ADMIN_OTP_FLOW, steps if wanted else None)
	bound = (admin.get(realm_path) or {}).get("browserFlow")
	changes = []
	if bound == ADMIN_OTP_FLOW and not keep:  # Keycloak refuses to delete a flow in use
		admin.update(realm_path, {"browserFlow": BROWSER_FLOW})
		changes.append(Change("updated", "browser flow", BROWSER_FLOW))
		bound = BROWSER_FLOW
	if existing is not None and not keep:
		admin.delete(f"{realm_path}/authentication/flows/{existing['id']}")
		changes.append(Change("deleted", "authentication flow", ADMIN_OTP_FLOW))
	if wanted and not keep:
		description = "Browser login with OTP required for admins (press_selfhost)"
		_create_flow(admin, policy.realm, ADMIN_OTP_FLOW, description, steps)
		changes.append(Change("created", "authentication flow", ADMIN_OTP_FLOW))
	if wanted and bound != ADMIN_OTP_FLOW:
		admin.update(realm_path, {"browserFlow": ADMIN_OTP_FLOW})
		changes.append(Change("updated", "browser flow", ADMIN_OTP_FLOW))
	return changes


def _ensure_post_broker_flow(admin: KeycloakAdmin, policy: RealmPolicy) -> list[Change]:
	"""Our post-login flow exists as post_broker_otp_flow says (and is absent when 2FA is OFF). One
	that differs is rebuilt: every identity provider using it lets go of it first, since Keycloak
	refuses to delete a flow in use; `_ensure_identity_provider` binds the configured ones again."""
	steps = post_broker_otp_flow(policy.two_factor, policy.admin_role)
	existing, keep = _our_flow(admin, policy.realm, POST_BROKER_FLOW, steps)
	changes = []
	if existing is not None and not keep:
		instances = f"/{quote(policy.realm)}/identity-provider/instances"
		for provider in admin.get(instances) or []:
			if provider.get("postBrokerLoginFlowAlias") == POST_BROKER_FLOW:
				# Keycloak unsets the post-login flow when the alias is empty (RepresentationToModel)
				admin.update(
					f"{instances}/{quote(provider['alias'])}", {**provider, "postBrokerLoginFlowAlias": ""}
				)
				changes.append(Change("updated", "identity provider", provider["alias"]))
		admin.delete(f"/{quote(policy.realm)}/authentication/flows/{existing['id']}")
		changes.append(Change("deleted", "authentication flow", POST_BROKER_FLOW))
	if steps is not None and not keep:
		description = "OTP after each login through an identity provider (press_selfhost)"
		_create_flow(admin, policy.realm, POST_BROKER_FLOW, description, steps)
		changes.append(Change("created", "authentication flow", POST_BROKER_FLOW))
	return changes


def _our_flow(
	admin: KeycloakAdmin, realm: str, alias: str, steps: tuple[FlowStep, ...] | None
) -> tuple[dict | None, bool]:
	"""Top-level flow `alias` as Keycloak lists it (None when absent), and whether it is wanted
	(`steps` not None) and already built as `steps` say."""
	flows = admin.get(f"/{quote(realm)}/authentication/flows") or []
	existing = next((flow for flow in flows if flow.get("alias") == alias), None)
	keep = (
		steps is not None
		and existing is not None
		and _flow_rows(admin, realm, alias) == list(_desired_rows(steps))
	)
	return existing, keep


def _create_flow(
	admin: KeycloakAdmin, realm: str, alias: str, description: str, steps: tuple[FlowStep, ...]
) -> None:
	"""Keycloak adds executions DISABLED and without config: add them all, read the flow back once,
	then set each requirement and config in the order Keycloak lists them (depth first)."""
	base = f"/{quote(realm)}/authentication"
	admin.create(
		f"{base}/flows",
		{
			"alias": alias,
			"description": description,
			"providerId": "basic-flow",
			"topLevel": True,
			"builtIn": False,
		},
	)
	_add_steps(admin, base, alias, steps)
	executions = admin.get(f"{base}/flows/{quote(alias)}/executions") or []
	desired = list(_flat(steps))
	if len(executions) != len(desired):
		raise ServiceRejectedError(
			SERVICE, f"flow {alias} has {len(executions)} executions after creation, not {len(desired)}"
		)
	for execution, (_, step) in zip(executions, desired, strict=True):
		if execution.get("requirement") != step.requirement:
			admin.update(
				f"{base}/flows/{quote(alias)}/executions", {**execution, "requirement": step.requirement}
			)
		if step.config:
			admin.create(
				f"{base}/executions/{execution['id']}/config",
				{"alias": step.config_alias, "config": dict(step.config)},
			)


def _add_steps(admin: KeycloakAdmin, base: str, parent: str, steps: tuple[FlowStep, ...]) -> None:
	for step in steps:
		if step.subflow:
			admin.create(
				f"{base}/flows/{quote(parent)}/executions/flow",
				{"alias": step.subflow, "type": "basic-flow", "provider": "registration-page-form"},
			)
			_add_steps(admin, base, step.subflow, step.steps)
		else:
			admin.create(f"{base}/flows/{quote(parent)}/executions/execution", {"provider": step.provider})


def _flat(steps: tuple[FlowStep, ...], level: int = 0):
	"""(level, step) depth first: the order of Keycloak's GET .../flows/{alias}/executions."""
	for step in steps:
		yield level, step
		yield from _flat(step.steps, level + 1)


def _desired_rows(steps: tuple[FlowStep, ...]):
	for level, step in _flat(steps):
		yield level, step.subflow or step.provider, step.requirement, dict(step.config) or None


def _flow_rows(admin: KeycloakAdmin, realm: str, alias: str) -> list[tuple]:
	"""Flow `alias` as Keycloak has it: (level, sub-flow alias or authenticator, requirement, config)."""
	base = f"/{quote(realm)}/authentication"
	rows = []
	for execution in admin.get(f"{base}/flows/{quote(alias)}/executions") or []:
		config = None
		if execution.get("authenticationConfig"):
			config = (admin.get(f"{base}/config/{execution['authenticationConfig']}") or {}).get("config")
		name = (
			execution.get("displayName")
			if execution.get("authenticationFlow")
			else execution.get("providerId")
		)
		rows.append((execution.get("level"), name, execution.get("requirement"), config or None))
	return rows


def _ensure_identity_provider(
	admin: KeycloakAdmin,
	realm: str,
	identity_provider: IdentityProvider,
	write_secrets: bool,
	post_broker_flow: str | None,
) -> list[Change]:
	"""Create or update one IdP; `post_broker_flow` (the OTP after its logins) is bound when given;
	when None, _ensure_post_broker_flow has already unbound ours."""
	if identity_provider.provider not in ("google", "github"):
		raise ConfigurationError(
			f"Keycloak: identity provider '{identity_provider.provider}' is not supported; use google or github."
		)
	desired = {
		"alias": identity_provider.provider,
		"providerId": identity_provider.provider,
		"enabled": identity_provider.enabled,
		"trustEmail": True,  # Google and GitHub verify e-mail addresses themselves
		"storeToken": False,
		"config": {
			"clientId": identity_provider.client_id,
			"defaultScope": "openid email profile"
			if identity_provider.provider == "google"
			else "user:email",
			"syncMode": "IMPORT",
		},
	}
	if post_broker_flow:
		desired["postBrokerLoginFlowAlias"] = post_broker_flow
	with_secret = {
		**desired,
		"config": {**desired["config"], "clientSecret": identity_provider.client_secret},
	}
	instances = f"/{quote(realm)}/identity-provider/instances"
	current = admin.get(f"{instances}/{quote(identity_provider.provider)}")
	if current is None:
		admin.create(instances, with_secret)
		return [Change("created", "identity provider", identity_provider.provider)]
	if write_secrets or differs(desired, current):
		body = with_secret if write_secrets else desired
		admin.update(
			f"{instances}/{quote(identity_provider.provider)}",
			{**current, **body, "config": {**current.get("config", {}), **body["config"]}},
		)
		return [Change("updated", "identity provider", identity_provider.provider)]
	return []


# -- sessions -----------------------------------------------------------------------------------------
def end_user_session(admin: KeycloakAdmin, realm: str, session_id: str) -> bool:
	"""End one Keycloak SSO session (the `sid` of our ID token), so that a logout through Press's own
	/api/method/logout also ends it; False when Keycloak had already ended it."""
	return admin.delete(f"/{quote(realm)}/sessions/{quote(session_id)}")


# -- comparing representations --------------------------------------------------------------------
def differs(desired: object, current: object) -> bool:
	"""True when `current` lacks something of `desired`. Keys only Keycloak sets are ignored; lists
	compare as sets, since Keycloak does not keep their order."""
	if isinstance(desired, dict):
		if not isinstance(current, dict):
			return True
		return any(differs(value, current.get(key)) for key, value in desired.items())
	if isinstance(desired, list | tuple):
		return not isinstance(current, list) or sorted(map(str, desired)) != sorted(map(str, current))
	return desired != current


def _error_text(response: requests.Response) -> str:
	try:
		body = response.json()
	except ValueError:
		return response.text[:200]
	if isinstance(body, dict):
		return str(body.get("errorMessage") or body.get("error_description") or body.get("error") or body)
	return str(body)[:200]
