"""The dashboard's login against a real OpenID provider laid out like a Keycloak realm.

Each refusal the SSO notes found missing in Frappe's own OAuth login is a test here.
"""

import dataclasses
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from press_selfhost.errors import AuthenticationError, ConfigurationError
from press_selfhost.identity.keycloak import BACKCHANNEL_LOGOUT_EVENT, KeycloakLogin, RealmClient
from tests.keycloak.conftest import DASHBOARD_CALLBACK, DASHBOARD_LOGGED_OUT, DASHBOARD_SECRET
from tests.support.oidc_provider import rsa_signing_key


@pytest.fixture
def login(oidc_provider):
	return KeycloakLogin(RealmClient(oidc_provider.server_url, "cloud", "dashboard", DASHBOARD_SECRET))


def log_in(oidc_provider, login, browser=None, account="alice-sub"):
	"""Start a login, let the browser pass the provider, and return (request, callback parameters)."""
	request = login.start_login(DASHBOARD_CALLBACK, login_hint=account)
	callback_url = oidc_provider.browse_to_callback(
		browser or requests.Session(), request.url, DASHBOARD_CALLBACK
	)
	return request, {name: values[0] for name, values in parse_qs(urlsplit(callback_url).query).items()}


def signed(oidc_provider, claims, key=None, algorithm="RS256", kid=None):
	now = int(time.time())
	claims = {
		"iss": oidc_provider.issuer,
		"aud": "dashboard",
		"sub": "alice-sub",
		"iat": now,
		"exp": now + 300,
		**claims,
	}
	return jwt.encode(
		claims,
		key or oidc_provider.signing_key,
		algorithm=algorithm,
		headers={"kid": kid or oidc_provider.kid},
	)


# -- the flow -----------------------------------------------------------------------------------
def test_full_login_gives_the_verified_identity(oidc_provider, login):
	request, callback = log_in(oidc_provider, login)
	query = parse_qs(urlsplit(request.url).query)
	assert query["code_challenge_method"] == ["S256"] and query["nonce"] == [request.nonce]

	tokens = login.finish_login(request, callback)

	assert tokens.identity.subject == "alice-sub"
	assert tokens.identity.email == "alice@example.test" and tokens.identity.email_verified is True
	assert tokens.identity.session_id and tokens.refresh_token and tokens.expires_in > 0


def test_unverified_email_is_reported_as_unverified(oidc_provider, login):
	request, callback = log_in(oidc_provider, login, account="mallory-sub")
	identity = login.finish_login(request, callback).identity
	assert identity.subject == "mallory-sub" and identity.email_verified is False


def test_refresh_gives_new_tokens_for_the_same_user(oidc_provider, login):
	request, callback = log_in(oidc_provider, login)
	tokens = login.finish_login(request, callback)
	refreshed = login.refresh(tokens.refresh_token, subject="alice-sub")
	assert refreshed.identity.subject == "alice-sub"
	assert refreshed.access_token != tokens.access_token
	with pytest.raises(AuthenticationError, match="another user"):
		login.refresh(refreshed.refresh_token, subject="mallory-sub")


def test_logout_ends_the_provider_session_and_notifies_the_back_channel(
	oidc_provider, login, backchannel_receiver
):
	browser = requests.Session()
	request, callback = log_in(oidc_provider, login, browser)
	tokens = login.finish_login(request, callback)
	already_received = len(backchannel_receiver.logout_tokens())

	answer = oidc_provider.confirm_logout(
		browser, login.logout_url(tokens.id_token, DASHBOARD_LOGGED_OUT, state="s1")
	)

	assert answer.status_code in (302, 303)
	assert answer.headers["Location"].startswith(DASHBOARD_LOGGED_OUT)
	logout_token = backchannel_receiver.logout_tokens()[already_received]
	notice = login.verify_logout_token(logout_token)
	assert (
		notice.session_id == tokens.identity.session_id and notice.subject == "alice-sub" and notice.token_id
	)
	with pytest.raises(AuthenticationError, match="refused the code or refresh token"):
		login.refresh(tokens.refresh_token, subject="alice-sub")
	# The next login has to go through the provider again and gets a new session.
	request, callback = log_in(oidc_provider, login, browser)
	assert login.finish_login(request, callback).identity.session_id != tokens.identity.session_id


# -- refusals of the callback ------------------------------------------------------------------------
def test_wrong_state_is_refused_before_the_code_is_spent(oidc_provider, login):
	request, callback = log_in(oidc_provider, login)
	with pytest.raises(AuthenticationError, match="state"):
		login.finish_login(request, {**callback, "state": "attacker-state"})
	# Login CSRF: the attacker's callback (their code and state) in a browser that started its own login.
	own_request = login.start_login(DASHBOARD_CALLBACK)
	with pytest.raises(AuthenticationError, match="state"):
		login.finish_login(own_request, callback)
	assert login.finish_login(request, callback).identity.subject == "alice-sub"


def test_replayed_code_is_refused(oidc_provider, login):
	request, callback = log_in(oidc_provider, login)
	login.finish_login(request, callback)
	with pytest.raises(AuthenticationError, match="refused the code"):
		login.finish_login(request, callback)


def test_wrong_nonce_is_refused(oidc_provider, login):
	request, callback = log_in(oidc_provider, login)
	with pytest.raises(AuthenticationError, match="nonce"):
		login.finish_login(dataclasses.replace(request, nonce="another-nonce"), callback)


def test_answer_from_another_issuer_is_refused(oidc_provider, login):
	request, callback = log_in(oidc_provider, login)
	with pytest.raises(AuthenticationError, match="issuer"):
		login.finish_login(request, {**callback, "iss": "https://evil.example/realms/cloud"})


def test_provider_error_is_refused(login):
	request = login.start_login(DASHBOARD_CALLBACK)
	with pytest.raises(AuthenticationError, match="access_denied"):
		login.finish_login(request, {"error": "access_denied", "state": request.state})


def test_wrong_client_secret_is_a_configuration_error(oidc_provider):
	wrong = KeycloakLogin(RealmClient(oidc_provider.server_url, "cloud", "dashboard", "not-the-secret"))
	request, callback = log_in(oidc_provider, wrong)
	with pytest.raises(ConfigurationError, match="keycloak_client_secret") as refused:
		wrong.finish_login(request, callback)
	assert "not-the-secret" not in str(refused.value)


def test_wrong_realm_is_a_configuration_error(oidc_provider):
	with pytest.raises(ConfigurationError, match="keycloak_realm"):
		KeycloakLogin(RealmClient(oidc_provider.server_url + "/auth", "cloud", "dashboard", "x")).metadata()


# -- refusals of forged ID tokens ---------------------------------------------------------------------
def test_token_signed_by_another_key_is_refused(oidc_provider, login):
	with pytest.raises(AuthenticationError, match="signature"):
		login.verify_id_token(signed(oidc_provider, {"nonce": "n"}, key=rsa_signing_key()), "n")


def test_token_with_an_unknown_key_id_is_refused(oidc_provider, login):
	with pytest.raises(AuthenticationError, match="not one of the realm's keys"):
		login.verify_id_token(signed(oidc_provider, {"nonce": "n"}, key=rsa_signing_key(), kid="other"), "n")


def test_expired_token_is_refused(oidc_provider, login):
	long_ago = int(time.time()) - 3600
	with pytest.raises(AuthenticationError, match="expired"):
		login.verify_id_token(
			signed(oidc_provider, {"nonce": "n", "iat": long_ago, "exp": long_ago + 300}), "n"
		)


def test_token_for_another_audience_is_refused(oidc_provider, login):
	with pytest.raises(AuthenticationError, match="aud"):
		login.verify_id_token(signed(oidc_provider, {"nonce": "n", "aud": "another-client"}), "n")


def test_token_for_several_audiences_needs_our_azp(oidc_provider, login):
	token = signed(oidc_provider, {"nonce": "n", "aud": ["dashboard", "other"], "azp": "other"})
	with pytest.raises(AuthenticationError, match="azp"):
		login.verify_id_token(token, "n")
	good = signed(oidc_provider, {"nonce": "n", "aud": ["dashboard", "other"], "azp": "dashboard"})
	assert login.verify_id_token(good, "n")["sub"] == "alice-sub"


def test_token_from_another_issuer_is_refused(oidc_provider, login):
	with pytest.raises(AuthenticationError, match="iss"):
		login.verify_id_token(
			signed(oidc_provider, {"nonce": "n", "iss": "https://evil.example/realms/cloud"}), "n"
		)


def test_unsigned_token_is_refused(oidc_provider, login):
	token = jwt.encode(
		{"iss": oidc_provider.issuer, "aud": "dashboard", "sub": "alice-sub"}, None, algorithm="none"
	)
	with pytest.raises(AuthenticationError, match="'none'"):
		login.verify_id_token(token, None)


def test_token_signed_with_the_client_secret_is_refused(oidc_provider, login):
	token = signed(oidc_provider, {"nonce": "n"}, key=DASHBOARD_SECRET, algorithm="HS256")
	with pytest.raises(AuthenticationError, match="'HS256'"):
		login.verify_id_token(token, "n")


def test_token_claiming_an_algorithm_the_realm_key_cannot_make_is_refused(oidc_provider, login):
	token = signed(
		oidc_provider, {"nonce": "n"}, key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"
	)
	with pytest.raises(AuthenticationError, match="RSA key cannot make"):
		login.verify_id_token(token, "n")


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_never_a_token(oidc_provider, text):
	login = KeycloakLogin(RealmClient(oidc_provider.server_url, "cloud", "dashboard", DASHBOARD_SECRET))
	with pytest.raises(AuthenticationError):
		login.verify_id_token(text, None)


# -- back-channel logout tokens ---------------------------------------------------------------------
def logout_claims(**overrides):
	return {
		"jti": str(uuid.uuid4()),
		"sid": "session-1",
		"events": {BACKCHANNEL_LOGOUT_EVENT: {}},
		**overrides,
	}


def test_logout_token_is_verified(oidc_provider, login):
	notice = login.verify_logout_token(signed(oidc_provider, logout_claims()))
	assert notice.session_id == "session-1" and notice.subject == "alice-sub"


def test_logout_token_with_a_nonce_is_refused(oidc_provider, login):
	with pytest.raises(AuthenticationError, match="nonce"):
		login.verify_logout_token(signed(oidc_provider, logout_claims(nonce="n")))


def test_logout_token_without_the_logout_event_is_refused(oidc_provider, login):
	with pytest.raises(AuthenticationError, match="event"):
		login.verify_logout_token(signed(oidc_provider, logout_claims(events={})))


def test_logout_token_without_session_or_user_is_refused(oidc_provider, login):
	token = jwt.encode(
		{"iss": oidc_provider.issuer, "aud": "dashboard", "iat": int(time.time()), **logout_claims(sid=None)},
		oidc_provider.signing_key,
		algorithm="RS256",
		headers={"kid": oidc_provider.kid},
	)
	with pytest.raises(AuthenticationError, match="neither"):
		login.verify_logout_token(token)


def test_logout_token_without_an_id_is_refused(oidc_provider, login):
	claims = logout_claims()
	del claims["jti"]
	with pytest.raises(AuthenticationError, match="jti"):
		login.verify_logout_token(signed(oidc_provider, claims))


def test_id_token_is_not_a_logout_token(oidc_provider, login):
	request, callback = log_in(oidc_provider, login)
	with pytest.raises(AuthenticationError):
		login.verify_logout_token(login.finish_login(request, callback).id_token)
