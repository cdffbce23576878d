"""Frappe glue of the Keycloak login (the www routes under /auth/keycloak/ call these functions).

The rules live in integrations/keycloak.py (tokens) and sso.py (return paths, user matching); this
module reads Selfhost Settings, keeps the login state in Redis bound to an HttpOnly cookie, stores
identities and sessions in DocTypes and opens or ends Frappe sessions. Everything here runs on www
routes, not /api/ paths, because Press's auth hook answers 401 to guests on most /api/ paths.
"""

import dataclasses
import functools
import hmac
import json

import frappe
from frappe.utils import get_url

from press_selfhost.errors import AuthenticationError, ConfigurationError
from press_selfhost.identity.keycloak import KeycloakLogin, LoginRequest, RealmClient, Tokens
from press_selfhost.identity.keycloak_admin import (
	AdminCredentials,
	DashboardClient,
	IdentityProvider,
	KeycloakAdmin,
	RealmMail,
	RealmPolicy,
	TwoFactor,
	end_user_session,
	ensure_realm,
)
from press_selfhost.identity.rules import LoginOutcome, decide_login, safe_return_path

BASE_PATH = "/auth/keycloak"
LOGIN_PATH = f"{BASE_PATH}/login"
DEFAULT_DISPLAY_NAME = "Cloud"  # the realm's name on login pages when keycloak_display_name is empty
CALLBACK_PATH = f"{BASE_PATH}/callback"
BACKCHANNEL_PATH = f"{BASE_PATH}/backchannel_logout"
LOGGED_OUT_PATH = "/dashboard/login"
STATE_COOKIE = "keycloak_login_state"
STATE_TTL_SECONDS = 600
LOGOUT_TOKEN_TTL_SECONDS = 24 * 3600
SOCIAL_PROVIDERS = ("google", "github")


def redirect(url: str) -> None:
	"""End a www page with a 302: frappe.Redirect alone is a 301, which browsers cache."""
	frappe.flags.redirect_location = url
	raise frappe.Redirect(302)


# -- settings ----------------------------------------------------------------------------------------
def realm_login() -> KeycloakLogin:
	settings = frappe.get_cached_doc("Selfhost Settings")
	if not (settings.keycloak_url and settings.keycloak_realm and settings.keycloak_client_id):
		raise ConfigurationError(
			"Keycloak login is not configured: fill the Keycloak section of Selfhost Settings."
		)
	return _login_for(
		RealmClient(
			settings.keycloak_url,
			settings.keycloak_realm,
			settings.keycloak_client_id,
			settings.get_password("keycloak_client_secret", raise_exception=False) or "",
		)
	)


@functools.lru_cache(maxsize=4)
def _login_for(client: RealmClient) -> KeycloakLogin:
	"""One relying party per configuration and worker, so discovery and the realm's keys are fetched
	once, not on every login; a changed setting is a new RealmClient and so a new entry."""
	return KeycloakLogin(client)


def own_hosts() -> set[str]:
	hosts = {frappe.local.request.host.split(":")[0]} if getattr(frappe.local, "request", None) else set()
	domain = frappe.get_cached_doc("Selfhost Settings").domain
	return hosts | ({f"cloud.{domain}"} if domain else set())


# -- login -------------------------------------------------------------------------------------------
def start_login(return_to: str | None, identity_provider: str | None) -> str:
	"""Remember a fresh login for this browser and return the Keycloak URL to send it to."""
	request = realm_login().start_login(
		get_url(CALLBACK_PATH),
		identity_provider=identity_provider if identity_provider in SOCIAL_PROVIDERS else None,
	)
	entry = {**dataclasses.asdict(request), "return_to": safe_return_path(return_to, own_hosts())}
	frappe.cache.set(_state_key(request.state), json.dumps(entry), ex=STATE_TTL_SECONDS)
	frappe.local.cookie_manager.set_cookie(
		STATE_COOKIE, request.state, max_age=STATE_TTL_SECONDS, httponly=True, samesite="Lax"
	)
	return request.url


def finish_login(callback: dict) -> str:
	"""Verify the callback, log the user in, and return where the browser goes next."""
	state = str(callback.get("state") or "")
	cookie = frappe.request.cookies.get(STATE_COOKIE) or ""
	frappe.local.cookie_manager.delete_cookie(STATE_COOKIE)
	if not state or not hmac.compare_digest(state, cookie):
		raise AuthenticationError(
			"the login was not started in this browser (state cookie missing or different)"
		)
	entry = _take_login(state)
	if entry is None:
		raise AuthenticationError("the login expired or was already used; start again")
	return_to = entry.pop("return_to")
	tokens = realm_login().finish_login(LoginRequest(**entry), callback)

	user = _user_for(tokens)
	frappe.local.login_manager.login_as(user)
	_remember_session(tokens, user)
	next_url = _next_step_for_new_account(user, tokens) or return_to
	frappe.db.commit()  # a GET request: Frappe would not commit on its own
	return next_url


def _take_login(state: str) -> dict | None:
	"""The login stored for `state`, removed so that a replayed callback finds nothing."""
	pipeline = frappe.cache.pipeline()  # MULTI/EXEC: two concurrent callbacks cannot both read it
	pipeline.get(_state_key(state))
	pipeline.delete(_state_key(state))
	entry, _ = pipeline.execute()
	return json.loads(entry) if entry else None


def _user_for(tokens: Tokens) -> str:
	identity = tokens.identity
	linked = frappe.db.get_value("Keycloak Identity", {"subject": identity.subject}, "user")
	by_email = frappe.db.get_value("User", {"email": identity.email}, "name") if identity.email else None
	decision = decide_login(identity, linked, by_email)
	if decision.user in ("Administrator", "Guest"):
		raise AuthenticationError(f"{decision.user} cannot log in through Keycloak")
	if decision.outcome is LoginOutcome.CREATE:
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": decision.user,
				"first_name": identity.given_name or identity.name or decision.user.split("@")[0],
				"last_name": identity.family_name,
				"user_type": "Website User",  # Press's dashboard users never get desk access
				"send_welcome_email": 0,
			}
		)
		user.flags.ignore_permissions = True
		user.insert()
	if decision.outcome is not LoginOutcome.KNOWN:
		frappe.get_doc(
			{
				"doctype": "Keycloak Identity",
				"subject": identity.subject,
				"user": decision.user,
				"email": identity.email,
			}
		).insert(ignore_permissions=True)
	if not frappe.db.get_value("User", decision.user, "enabled"):
		raise AuthenticationError(f"user {decision.user} is disabled in Press")
	return decision.user


def _next_step_for_new_account(user: str, tokens: Tokens) -> str | None:
	"""A user without a Press team sets one up through Press's own page (Account Request with
	oauth_signup: no password), as Press's Google login does; None when the team exists."""
	if frappe.db.exists("Team", {"user": user}):
		return None
	role = "Press User" if frappe.db.exists("Role", "Press User") else "Press Admin"
	request = frappe.get_doc(
		{
			"doctype": "Account Request",
			"email": user,
			"first_name": tokens.identity.given_name or tokens.identity.name,
			"last_name": tokens.identity.family_name,
			"role": role,
			"oauth_signup": 1,
			"send_email": 0,
		}
	)
	request.insert(ignore_permissions=True)
	return request.get_verification_url()


def _remember_session(tokens: Tokens, user: str) -> None:
	frappe.get_doc(
		{
			"doctype": "Keycloak Session",
			"frappe_session": frappe.session.sid,
			"keycloak_session": tokens.identity.session_id,
			"subject": tokens.identity.subject,
			"user": user,
			"id_token": tokens.id_token,
		}
	).insert(ignore_permissions=True)


# -- logout ------------------------------------------------------------------------------------------
def logout() -> str:
	"""End the Frappe session, and return Keycloak's logout URL so that its session ends too."""
	session = frappe.db.get_value(
		"Keycloak Session", {"frappe_session": frappe.session.sid}, ["id_token"], as_dict=True
	)
	if frappe.session.user != "Guest":
		frappe.local.login_manager.logout()  # its on_logout hook (forget_session) drops the record
	frappe.db.commit()
	if not session or not session.id_token:
		return LOGGED_OUT_PATH
	return realm_login().logout_url(session.id_token, get_url(LOGGED_OUT_PATH))


def forget_session(login_manager=None) -> None:
	"""on_logout hook: a Frappe logout from anywhere (the dashboard logs out with an XHR to
	/api/method/logout) drops the session's Keycloak record and ends the Keycloak session too."""
	filters = {"frappe_session": frappe.session.sid}
	keycloak_sessions = frappe.get_all("Keycloak Session", filters=filters, pluck="keycloak_session")
	frappe.db.delete("Keycloak Session", filters)
	for session_id in filter(None, keycloak_sessions):
		frappe.enqueue(
			"press_selfhost.identity.dashboard_login.end_keycloak_session",
			session_id=session_id,
			enqueue_after_commit=True,
		)


def end_keycloak_session(session_id: str) -> None:
	"""Background job: end one Keycloak session through the admin API (when an admin is configured)."""
	settings = frappe.get_single("Selfhost Settings")
	if settings.keycloak_url and settings.keycloak_admin_username:
		end_user_session(_admin(settings), settings.keycloak_realm or "cloud", session_id)


def backchannel_logout(logout_token: str) -> int:
	"""Keycloak says a session ended: end the Frappe sessions it opened. Returns how many ended."""
	from frappe.sessions import clear_sessions, delete_session

	notice = realm_login().verify_logout_token(logout_token)
	replay_key = frappe.cache.make_key(f"press_selfhost:keycloak_logout_token:{notice.token_id}")
	if not frappe.cache.set(replay_key, 1, nx=True, ex=LOGOUT_TOKEN_TTL_SECONDS):
		raise AuthenticationError("this logout token was already used")
	filters = {"keycloak_session": notice.session_id} if notice.session_id else {"subject": notice.subject}
	sessions = frappe.get_all("Keycloak Session", filters=filters, fields=["name", "frappe_session", "user"])
	for session in sessions:
		delete_session(session.frappe_session, user=session.user, reason="Logged out in Keycloak")
		frappe.delete_doc("Keycloak Session", session.name, ignore_permissions=True)
	if not notice.session_id:
		for user in frappe.get_all("Keycloak Identity", filters={"subject": notice.subject}, pluck="user"):
			clear_sessions(user, force=True)
	frappe.db.commit()
	return len(sessions)


def _state_key(state: str) -> bytes:
	return frappe.cache.make_key(f"press_selfhost:keycloak_login:{state}")


# -- bootstrap ---------------------------------------------------------------------------------------
def bootstrap_realm(write_secrets: bool = False) -> list[str]:
	"""Make the `cloud` realm match Selfhost Settings (bench execute press_selfhost.identity.dashboard_login.bootstrap_realm)."""
	settings = frappe.get_single("Selfhost Settings")
	if not (settings.keycloak_url and settings.keycloak_admin_username):
		raise ConfigurationError(
			"Keycloak: set keycloak_url and keycloak_admin_username in Selfhost Settings."
		)
	admin = _admin(settings)
	site = get_url()
	dashboard = DashboardClient(
		client_id=settings.keycloak_client_id,
		secret=settings.get_password("keycloak_client_secret", raise_exception=False) or "",
		redirect_uris=(get_url(CALLBACK_PATH),),
		post_logout_redirect_uris=(get_url(LOGGED_OUT_PATH),),
		web_origins=(site,),
		backchannel_logout_url=get_url(BACKCHANNEL_PATH),
	)
	providers = tuple(
		IdentityProvider(
			name,
			settings.get(f"keycloak_{name}_client_id"),
			settings.get_password(f"keycloak_{name}_client_secret", raise_exception=False) or "",
		)
		for name in SOCIAL_PROVIDERS
		if settings.get(f"keycloak_{name}_client_id")
	)
	mail = None
	if settings.get("postal_smtp_host"):
		mail = RealmMail(
			host=settings.postal_smtp_host,
			port=int(settings.postal_smtp_port or 25),
			from_address=settings.postal_from_address,
			username=settings.postal_smtp_username or "",
			password=settings.get_password("postal_smtp_password", raise_exception=False) or "",
		)
	policy = RealmPolicy(
		dashboard=dashboard,
		realm=settings.keycloak_realm or "cloud",
		display_name=settings.get("keycloak_display_name") or DEFAULT_DISPLAY_NAME,
		two_factor=TwoFactor((settings.get("keycloak_two_factor") or "optional").lower()),
		identity_providers=providers,
		mail=mail,
	)
	changes = ensure_realm(admin, policy, write_secrets=write_secrets)
	return [f"{change.action} {change.kind} {change.name}" for change in changes]


def _admin(settings) -> KeycloakAdmin:
	return KeycloakAdmin(
		AdminCredentials(
			settings.keycloak_url,
			settings.keycloak_admin_username,
			settings.get_password("keycloak_admin_password", raise_exception=False) or "",
		)
	)
