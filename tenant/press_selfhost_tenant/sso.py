"""Frappe glue of single sign-on on a customer site (the www routes under /auth/keycloak/ call these).

The site's own Keycloak client comes from `press_selfhost_sso` in site_config.json, which Press writes
when SSO is switched on for the site. The verified flow (PKCE, state, nonce, ID token against the
realm's keys) is press_selfhost's framework-free core, the same code as the Press dashboard's login;
the rules (who the user is, which roles) are press_selfhost.identity.tenant_login. This module only keeps the
login state in Redis bound to an HttpOnly cookie and opens, updates and ends Frappe sessions.
"""

import dataclasses
import functools
import hmac
import json
from urllib.parse import urlencode, urlsplit

import frappe

from press_selfhost.errors import AuthenticationError
from press_selfhost.identity.keycloak import KeycloakLogin, LoginRequest, RealmClient, Tokens
from press_selfhost.identity.rules import LoginOutcome, safe_return_path
from press_selfhost.identity.tenant_login import (
	SITE_CONFIG_KEY,
	SYSTEM_USER,
	TenantConfig,
	TenantLogin,
	decide_tenant_login,
	read_site_config,
	role_changes,
)

# The (provider, userid) rows of Frappe's own User Social Login table hold the Keycloak subject.
PROVIDER = "press_selfhost_keycloak"
STATE_COOKIE = "keycloak_login_state"
STATE_TTL_SECONDS = 600
LOGOUT_TOKEN_TTL_SECONDS = 24 * 3600
LOGGED_OUT_PATH = "/login"


def redirect(url: str) -> None:
	"""End a www page with a 302: frappe.Redirect alone is a 301, which browsers cache."""
	frappe.flags.redirect_location = url
	raise frappe.Redirect(302)


def site_sso() -> TenantConfig:
	return read_site_config(frappe.conf.get(SITE_CONFIG_KEY))


@functools.lru_cache(maxsize=8)
def _login_for(client: RealmClient) -> KeycloakLogin:
	"""One relying party per client and worker: discovery and the realm's keys are fetched once."""
	return KeycloakLogin(client)


def _own_hosts(config: TenantConfig) -> set[str]:
	return {urlsplit(config.site_url).hostname or ""}


# -- login -------------------------------------------------------------------------------------------
def start_login(return_to: str | None) -> str:
	"""Remember a fresh login for this browser and return the Keycloak URL to send it to."""
	config = site_sso()
	request = _login_for(config.client).start_login(config.callback_url)
	entry = {**dataclasses.asdict(request), "return_to": safe_return_path(return_to, _own_hosts(config), "")}
	frappe.cache.set(_key("login", request.state), json.dumps(entry), ex=STATE_TTL_SECONDS)
	frappe.local.cookie_manager.set_cookie(
		STATE_COOKIE, request.state, max_age=STATE_TTL_SECONDS, httponly=True, samesite="Lax"
	)
	return request.url


def finish_login(callback: dict) -> str:
	"""Verify the callback, find or create the user, set its roles from Keycloak, log it in."""
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
	config = site_sso()
	tokens = _login_for(config.client).finish_login(LoginRequest(**entry), callback)

	login = decide_tenant_login(
		tokens.identity,
		frappe.db.get_value(
			"User Social Login", {"provider": PROVIDER, "userid": tokens.identity.subject}, "parent"
		),
		frappe.db.get_value("User", {"email": tokens.identity.email}, "name")
		if tokens.identity.email
		else None,
		{
			role.name: bool(role.desk_access)
			for role in frappe.get_all("Role", {"disabled": 0}, ["name", "desk_access"])
		},
	)
	user = _apply(login, tokens)
	frappe.local.login_manager.login_as(user)
	_remember_session(tokens, user)
	frappe.db.commit()  # a GET request: Frappe would not commit on its own
	return return_to or ("/app" if login.roles.user_type == SYSTEM_USER else "/me")


def _take_login(state: str) -> dict | None:
	"""The login stored for `state`, removed so that a replayed callback finds nothing."""
	pipeline = frappe.cache.pipeline()  # MULTI/EXEC: two concurrent callbacks cannot both read it
	pipeline.get(_key("login", state))
	pipeline.delete(_key("login", state))
	entry, _ = pipeline.execute()
	return json.loads(entry) if entry else None


def _apply(login: TenantLogin, tokens: Tokens) -> str:
	"""Create or link the user as decided, and make its roles those Keycloak gives on this site."""
	identity, decision = tokens.identity, login.decision
	creating = decision.outcome is LoginOutcome.CREATE
	if creating:
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": decision.user,
				"first_name": identity.given_name or identity.name or decision.user.split("@")[0],
				"last_name": identity.family_name,
				"user_type": login.roles.user_type,
				"send_welcome_email": 0,
			}
		)
	else:
		user = frappe.get_doc("User", decision.user)
	if not creating and not user.enabled:
		raise AuthenticationError(f"user {user.name} is disabled on this site")
	if decision.outcome is not LoginOutcome.KNOWN:
		user.append(
			"social_logins", {"provider": PROVIDER, "userid": identity.subject, "username": identity.username}
		)
	to_add, to_remove = role_changes([row.role for row in user.roles], login.roles)
	user.set("roles", [row for row in user.roles if row.role not in to_remove])
	for role in to_add:
		user.append("roles", {"role": role})
	if creating:
		user.flags.no_welcome_mail = True
		user.insert(ignore_permissions=True)
	elif decision.outcome is not LoginOutcome.KNOWN or to_add or to_remove:
		user.save(ignore_permissions=True)
	return user.name


# -- sessions and logout -------------------------------------------------------------------------------
def _remember_session(tokens: Tokens, user: str) -> None:
	"""Keep the ID token for the logout (id_token_hint) and map Keycloak's session to ours, for
	back-channel logout; both live as long as a Frappe session may."""
	from frappe.sessions import get_expiry_in_seconds

	expiry = get_expiry_in_seconds()
	sid = frappe.session.sid
	record = {"id_token": tokens.id_token, "user": user, "keycloak_session": tokens.identity.session_id}
	frappe.cache.set(_key("session", sid), json.dumps(record), ex=expiry)
	if tokens.identity.session_id:
		key = _key("keycloak_session", tokens.identity.session_id)
		sids = json.loads(frappe.cache.get(key) or "[]")
		frappe.cache.set(key, json.dumps([*sids, sid]), ex=expiry)


def logout_url() -> str:
	"""End the Frappe session, and return Keycloak's logout URL so that its session ends too (or the
	login page when this session did not come from Keycloak)."""
	sid = frappe.session.sid
	record = json.loads(frappe.cache.get(_key("session", sid)) or "null")
	if frappe.session.user != "Guest":
		frappe.local.login_manager.logout()
	frappe.cache.delete(_key("session", sid))
	frappe.db.commit()
	if not record or not frappe.conf.get(SITE_CONFIG_KEY):
		return LOGGED_OUT_PATH
	config = site_sso()
	return _login_for(config.client).logout_url(record["id_token"], config.logged_out_url)


@frappe.whitelist(allow_guest=True)
def web_logout() -> None:
	"""/?cmd=web_logout (the website's "Log out"): as Frappe's, then on to Keycloak's logout."""
	frappe.local.response["type"] = "redirect"
	frappe.local.response["location"] = logout_url()


def backchannel_logout(logout_token: str) -> int:
	"""Keycloak says a session ended: end the Frappe sessions it opened. Returns how many ended."""
	from frappe.sessions import clear_sessions, delete_session

	config = site_sso()
	notice = _login_for(config.client).verify_logout_token(logout_token)
	if not frappe.cache.set(_key("logout_token", notice.token_id), 1, nx=True, ex=LOGOUT_TOKEN_TTL_SECONDS):
		raise AuthenticationError("this logout token was already used")
	ended = 0
	if notice.session_id:
		key = _key("keycloak_session", notice.session_id)
		for sid in json.loads(frappe.cache.get(key) or "[]"):
			record = json.loads(frappe.cache.get(_key("session", sid)) or "null")
			if record:
				delete_session(sid, user=record["user"], reason="Logged out in Keycloak")
				frappe.cache.delete(_key("session", sid))
				ended += 1
		frappe.cache.delete(key)
	else:
		user = frappe.db.get_value(
			"User Social Login", {"provider": PROVIDER, "userid": notice.subject}, "parent"
		)
		if user:
			clear_sessions(user, force=True)
			ended = 1
	frappe.db.commit()
	return ended


def login_button(context) -> None:
	"""update_website_context: Frappe's /login page lists "Login with Keycloak" beside its own form
	(its buttons come from Social Login Keys, whose unverified flow this app replaces)."""
	if context.get("for_test") != "login.html" or not frappe.conf.get(SITE_CONFIG_KEY):
		return
	redirect_to = frappe.form_dict.get("redirect-to") or frappe.form_dict.get("redirect_to")
	query = f"?{urlencode({'redirect_to': redirect_to})}" if redirect_to else ""
	context.setdefault("provider_logins", []).append(
		{
			"name": "keycloak",
			"provider_name": "Keycloak",
			"auth_url": f"/auth/keycloak/login{query}",
			"icon": None,
		}
	)
	context["social_login"] = True


def boot_session(bootinfo) -> None:
	"""Tells the desk (public/js/sso_logout.js) to log out through Keycloak when SSO is on here."""
	bootinfo.keycloak_sso = bool(frappe.conf.get(SITE_CONFIG_KEY))


def _key(kind: str, value: str) -> bytes:
	return frappe.cache.make_key(f"press_selfhost_tenant:{kind}:{value}")
