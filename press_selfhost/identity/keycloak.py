"""Keycloak as the OpenID provider of the Press dashboard: a verified login, refresh and single logout.

Frappe's own OAuth login (Social Login Key) never compares `state`, has no nonce, PKCE or ID-token
check and matches users by unverified e-mail (see the SSO notes); this module is the replacement:
authorization-code flow with PKCE (S256), `state` and `nonce`, and an ID token verified against the
realm's JWKS with asymmetric algorithms only. Framework-free: the caller keeps the `LoginRequest`
server-side between the redirect and the callback, and keeps seen logout-token `jti`s.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
import requests

from press_selfhost.errors import (
	AuthenticationError,
	ConfigurationError,
	ServiceRejectedError,
	ServiceUnavailableError,
)

SERVICE = "Keycloak"
# Asymmetric only: with HS* anyone holding the client secret could mint ID tokens, and "none" is no signature.
SIGNING_ALGORITHMS = (
	"RS256",
	"RS384",
	"RS512",
	"PS256",
	"PS384",
	"PS512",
	"ES256",
	"ES384",
	"ES512",
	"EdDSA",
)
_KEY_TYPE_OF_ALGORITHM = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
CLOCK_SKEW_SECONDS = 30
DEFAULT_SCOPE = "openid email profile"


@dataclass(frozen=True)
class RealmClient:
	"""One confidential client of one realm: what the relying party needs to talk to Keycloak."""

	server_url: str
	realm: str
	client_id: str
	client_secret: str = field(repr=False)
	timeout: float = 10.0

	@property
	def issuer(self) -> str:
		return f"{self.server_url.rstrip('/')}/realms/{self.realm}"


@dataclass(frozen=True)
class LoginRequest:
	"""What the caller stores server-side, keyed by `state`, between the redirect and the callback."""

	url: str
	state: str
	nonce: str = field(repr=False)
	code_verifier: str = field(repr=False)
	redirect_uri: str


@dataclass(frozen=True)
class Identity:
	"""Who logged in, from a verified ID token. `subject` is the stable key; e-mail can change."""

	subject: str
	email: str | None
	email_verified: bool
	name: str | None
	given_name: str | None
	family_name: str | None
	username: str | None
	session_id: str | None
	# This client's roles (`resource_access.<client_id>.roles`), from the verified ID token only.
	client_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tokens:
	identity: Identity
	id_token: str = field(repr=False)
	access_token: str = field(repr=False)
	refresh_token: str | None = field(repr=False)
	expires_in: int


@dataclass(frozen=True)
class LogoutNotice:
	"""A verified back-channel logout: end the sessions of `session_id`, or all of `subject`'s."""

	token_id: str
	subject: str | None
	session_id: str | None


class KeycloakLogin:
	"""The relying party of one realm client. Discovery and keys are fetched once and cached."""

	def __init__(self, client: RealmClient, http: requests.Session | None = None):
		self.client = client
		self.http = http or requests.Session()
		self._metadata: dict | None = None
		self._keys: jwt.PyJWKClient | None = None

	# -- discovery ------------------------------------------------------------------------------
	def metadata(self) -> dict:
		if self._metadata is None:
			url = f"{self.client.issuer}/.well-known/openid-configuration"
			response = self._request("GET", url)
			if response.status_code == 404:
				raise ConfigurationError(
					f"Keycloak: no realm at {url}. Check keycloak_url (no /auth suffix since Keycloak 17) "
					"and keycloak_realm."
				)
			metadata = self._json(response, "discovery")
			if metadata.get("issuer") != self.client.issuer:
				raise ConfigurationError(
					f"Keycloak: the realm at {url} calls itself '{metadata.get('issuer')}', not "
					f"'{self.client.issuer}'. Check keycloak_url (no /auth suffix since Keycloak 17) and keycloak_realm."
				)
			self._metadata = metadata
		return self._metadata

	# -- login ----------------------------------------------------------------------------------
	def start_login(
		self,
		redirect_uri: str,
		*,
		scope: str = DEFAULT_SCOPE,
		login_hint: str | None = None,
		identity_provider: str | None = None,
	) -> LoginRequest:
		"""A fresh authorization URL with its state, nonce and PKCE verifier (S256)."""
		state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
		code_verifier = secrets.token_urlsafe(64)
		challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=")
		params = {
			"client_id": self.client.client_id,
			"response_type": "code",
			"scope": scope,
			"redirect_uri": redirect_uri,
			"state": state,
			"nonce": nonce,
			"code_challenge": challenge.decode(),
			"code_challenge_method": "S256",
		}
		if login_hint:
			params["login_hint"] = login_hint
		if identity_provider:
			params["kc_idp_hint"] = identity_provider  # straight to Google/GitHub, skipping Keycloak's page
		url = f"{self.metadata()['authorization_endpoint']}?{urlencode(params)}"
		return LoginRequest(url, state, nonce, code_verifier, redirect_uri)

	def finish_login(self, request: LoginRequest, callback: Mapping[str, str]) -> Tokens:
		"""Check the callback's parameters against `request`, exchange the code, verify the ID token."""
		if callback.get("error"):
			raise AuthenticationError(
				f"Keycloak refused the login: {callback.get('error')} {callback.get('error_description', '')}".strip()
			)
		if not hmac.compare_digest(str(callback.get("state", "")), request.state):
			raise AuthenticationError("the login's state does not match the one this browser started")
		issuer = callback.get("iss")
		if issuer is not None and issuer != self.client.issuer:  # RFC 9207: the answer comes from our realm
			raise AuthenticationError("the login answer names another issuer than our realm")
		if not callback.get("code"):
			raise AuthenticationError("the login answer carries no authorization code")
		answer = self._token_request(
			{
				"grant_type": "authorization_code",
				"code": callback["code"],
				"redirect_uri": request.redirect_uri,
				"code_verifier": request.code_verifier,
			}
		)
		return self._tokens(answer, nonce=request.nonce)

	def refresh(self, refresh_token: str, subject: str) -> Tokens:
		"""New tokens for the same user; fails with AuthenticationError once the Keycloak session ended."""
		answer = self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})
		tokens = self._tokens(answer, nonce=None)
		if tokens.identity.subject != subject:
			raise AuthenticationError("the refreshed ID token is for another user")
		return tokens

	def logout_url(self, id_token: str, post_logout_redirect_uri: str, state: str | None = None) -> str:
		"""Where to send the browser to end its Keycloak session (RP-initiated logout)."""
		params = {
			"id_token_hint": id_token,
			"client_id": self.client.client_id,
			"post_logout_redirect_uri": post_logout_redirect_uri,
		}
		if state:
			params["state"] = state
		return f"{self.metadata()['end_session_endpoint']}?{urlencode(params)}"

	# -- tokens -----------------------------------------------------------------------------------
	def verify_id_token(self, id_token: str, nonce: str | None) -> dict:
		"""The claims of an ID token issued by our realm for our client; `nonce` is checked when given."""
		claims = self._verified_claims(id_token, required=("exp", "iat", "iss", "aud", "sub"))
		audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
		authorized_party = claims.get("azp")
		if (len(audience) > 1 or authorized_party is not None) and authorized_party != self.client.client_id:
			raise AuthenticationError("the ID token was issued to another client (azp)")
		if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
			raise AuthenticationError("the ID token's nonce does not match the login this browser started")
		return claims

	def verify_logout_token(self, logout_token: str) -> LogoutNotice:
		"""A back-channel logout token (OpenID Back-Channel Logout 1.0, 2.6); the caller checks `jti` replay."""
		claims = self._verified_claims(logout_token, required=("iat", "iss", "aud", "jti"))
		events = claims.get("events")
		if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
			raise AuthenticationError("the logout token has no back-channel logout event")
		if "nonce" in claims:
			raise AuthenticationError(
				"the logout token carries a nonce, so it is an ID token, not a logout token"
			)
		if not claims.get("sid") and not claims.get("sub"):
			raise AuthenticationError("the logout token names neither a session (sid) nor a user (sub)")
		return LogoutNotice(
			token_id=str(claims["jti"]), subject=claims.get("sub"), session_id=claims.get("sid")
		)

	def _verified_claims(self, token: str, required: tuple[str, ...]) -> dict:
		try:
			header = jwt.get_unverified_header(token)
		except jwt.DecodeError as error:
			raise AuthenticationError(f"the token is not a JWT: {error}") from None
		algorithm = header.get("alg")
		if algorithm not in SIGNING_ALGORITHMS:
			raise AuthenticationError(f"the token is signed with '{algorithm}', which we never accept")
		key = self._signing_key(token)
		if key.key_type != _KEY_TYPE_OF_ALGORITHM[algorithm[:2]]:
			raise AuthenticationError(
				f"the token claims '{algorithm}', which its {key.key_type} key cannot make"
			)
		try:
			return jwt.decode(
				token,
				key=key.key,
				algorithms=[algorithm],
				audience=self.client.client_id,
				issuer=self.client.issuer,
				leeway=CLOCK_SKEW_SECONDS,
				options={"require": list(required)},
			)
		except jwt.ExpiredSignatureError:
			raise AuthenticationError("the token has expired") from None
		except jwt.InvalidAudienceError:
			raise AuthenticationError("the token was issued for another client (aud)") from None
		except jwt.InvalidIssuerError:
			raise AuthenticationError("the token was issued by another realm (iss)") from None
		except jwt.InvalidSignatureError:
			raise AuthenticationError("the token's signature does not match the realm's key") from None
		except jwt.PyJWTError as error:
			raise AuthenticationError(f"the token was refused: {error}") from None

	def _signing_key(self, token: str) -> jwt.PyJWK:
		if self._keys is None:
			self._keys = jwt.PyJWKClient(
				self.metadata()["jwks_uri"], cache_keys=True, timeout=int(self.client.timeout)
			)
		try:
			# An unknown kid makes PyJWKClient fetch the key set again: Keycloak's key rotation just works.
			return self._keys.get_signing_key_from_jwt(token)
		except jwt.PyJWKClientConnectionError as error:
			raise ServiceUnavailableError(SERVICE, f"cannot fetch the realm's keys: {error}") from None
		except jwt.PyJWKClientError as error:
			raise AuthenticationError(f"the token's key is not one of the realm's keys: {error}") from None
		except jwt.DecodeError as error:
			raise AuthenticationError(f"the token is not a JWT: {error}") from None

	def _tokens(self, answer: dict, nonce: str | None) -> Tokens:
		if not answer.get("id_token") or not answer.get("access_token"):
			raise AuthenticationError("Keycloak answered without an ID token; is 'openid' in the scope?")
		claims = self.verify_id_token(answer["id_token"], nonce)
		identity = Identity(
			subject=str(claims["sub"]),
			email=claims.get("email"),
			email_verified=claims.get("email_verified") is True,
			name=claims.get("name"),
			given_name=claims.get("given_name"),
			family_name=claims.get("family_name"),
			username=claims.get("preferred_username"),
			session_id=claims.get("sid"),
			client_roles=client_roles(claims, self.client.client_id),
		)
		return Tokens(
			identity=identity,
			id_token=answer["id_token"],
			access_token=answer["access_token"],
			refresh_token=answer.get("refresh_token"),
			expires_in=int(answer.get("expires_in") or 0),
		)

	# -- HTTP -------------------------------------------------------------------------------------
	def _token_request(self, form: dict) -> dict:
		form = {**form, "client_id": self.client.client_id, "client_secret": self.client.client_secret}
		response = self._request("POST", self.metadata()["token_endpoint"], data=form)
		if response.status_code == 400:
			error = self._error_code(response)
			if error == "invalid_grant":
				raise AuthenticationError(
					"Keycloak refused the code or refresh token (used, expired or not ours)"
				)
			raise ServiceRejectedError(
				SERVICE, f"the token endpoint refused the request: {error}", status_code=400
			)
		if response.status_code == 401:
			raise ConfigurationError(
				f"Keycloak refused client '{self.client.client_id}': check keycloak_client_id and keycloak_client_secret."
			)
		return self._json(response, "token endpoint")

	def _request(self, method: str, url: str, **kwargs) -> requests.Response:
		try:
			response = self.http.request(method, url, timeout=self.client.timeout, **kwargs)
		except requests.RequestException as error:
			raise ServiceUnavailableError(SERVICE, f"cannot reach {url}: {type(error).__name__}") from None
		if response.status_code >= 500 or response.status_code == 429:
			raise ServiceUnavailableError(SERVICE, f"{url} failed", status_code=response.status_code)
		return response

	@staticmethod
	def _json(response: requests.Response, what: str) -> dict:
		if response.status_code != 200:
			raise ServiceRejectedError(
				SERVICE, f"the {what} answered unexpectedly", status_code=response.status_code
			)
		try:
			body = response.json()
		except ValueError:
			raise ServiceUnavailableError(
				SERVICE, f"the {what} answered with something that is not JSON"
			) from None
		if not isinstance(body, dict):
			raise ServiceUnavailableError(SERVICE, f"the {what} answered with JSON that is not an object")
		return body

	@staticmethod
	def _error_code(response: requests.Response) -> str:
		try:
			return str(response.json().get("error", "unknown"))
		except (ValueError, AttributeError):
			return "unknown"


def client_roles(claims: Mapping, client_id: str) -> tuple[str, ...]:
	"""The roles `claims` grant on `client_id` (Keycloak's `resource_access.<client_id>.roles`); roles
	of other clients in the same token are never read, so one site's roles cannot open another site."""
	access = claims.get("resource_access")
	client = access.get(client_id) if isinstance(access, Mapping) else None
	roles = client.get("roles") if isinstance(client, Mapping) else None
	if not isinstance(roles, list):
		return ()
	return tuple(dict.fromkeys(role for role in roles if isinstance(role, str) and role))
