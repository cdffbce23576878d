"""The doctor's checks of what reaches press_selfhost through Press: Traefik's poll and Lago's and
Postal's webhooks, each as its real caller (a Guest), against the Press stand-in with Press's auth hook.

Each failure names who is refused and by whom: Press's auth hook, a Press without our aliases, our
endpoint itself (a token that differs), or nobody (a closed port).
"""

import dataclasses
import json
import secrets

import pytest
import requests

from press_selfhost.billing.checks import LAGO_WEBHOOK_METHOD, lago_webhook_reachable_check
from press_selfhost.mail.checks import POSTAL_WEBHOOK_METHOD, postal_webhook_reachable_check
from press_selfhost.routing.checks import ROUTING_CONFIG_METHOD, ROUTING_CONFIG_PATH, routing_endpoint_check
from press_selfhost.routing.traefik import Route, SiteStatus
from tests.standins.postal import PostalSigner
from tests.standins.press import REFUSAL_MESSAGE, PressWebStandIn
from tests.support.doctor import only, unused_url, wrong

DOMAIN = "example.com"
SITE = f"cloud.{DOMAIN}"


@pytest.fixture
def press():
	routes = (Route(f"acme.{DOMAIN}", f"acme.{DOMAIN}", "10.0.0.5", SiteStatus.ACTIVE),)
	token = "traefik-token-" + secrets.token_hex(8)
	with PressWebStandIn(
		DOMAIN, token, routes, postal_public_key_pem=PostalSigner().public_key_pem
	) as stand_in:
		yield stand_in


def as_guest(press, method: str, path: str, **headers) -> requests.Response:
	return requests.request(
		method, press.url + path, headers={"X-Frappe-Site-Name": SITE, **headers}, timeout=5
	)


# -- the stand-in's auth hook is Press's ----------------------------------------------------------


def test_press_refuses_guests_our_own_method_names_with_its_exact_answer(press):
	refused = as_guest(
		press, "GET", "/api/method/press_selfhost.api.traefik.config", **{"X-Traefik-Token": press.token}
	)
	assert refused.status_code == 401
	answer = refused.json()
	assert answer["exc_type"] == "AuthenticationError"
	[message] = [json.loads(entry) for entry in json.loads(answer["_server_messages"])]
	assert (message["message"], message["indicator"], message["raise_exception"]) == (
		REFUSAL_MESSAGE,
		"red",
		1,
	)
	# A System User passes the hook, which is why calling as Administrator hides the refusal.
	admin = as_guest(
		press,
		"GET",
		"/api/method/press_selfhost.api.traefik.config",
		**{"X-Traefik-Token": press.token, "Authorization": f"token {press.system_user_token}"},
	)
	assert admin.status_code == 200
	# Any other /api/ path outside the allow-list is refused too; the hook reads `cmd` from the
	# request's arguments, when there is one, instead of the path (the method still comes from the path).
	assert as_guest(press, "GET", "/api/resource/Site").status_code == 401
	bypass = f"/api/method/press_selfhost.api.traefik.config?cmd={ROUTING_CONFIG_METHOD}"
	assert as_guest(press, "GET", bypass, **{"X-Traefik-Token": press.token}).status_code == 200


def test_press_lets_guests_reach_our_press_api_aliases(press):
	polled = as_guest(press, "GET", ROUTING_CONFIG_PATH, **{"X-Traefik-Token": press.token})
	assert polled.status_code == 200 and "routers" in polled.json()["http"]
	unsigned = as_guest(
		press, "POST", f"/api/method/{LAGO_WEBHOOK_METHOD}", **{"Content-Type": "application/json"}
	)
	assert unsigned.status_code == 401 and unsigned.json()["message"]["refused"]
	assert press.stored == []


# -- the routing endpoint Traefik polls -----------------------------------------------------------


def test_routing_endpoint_answers_traefik_with_the_token_and_refuses_without(press):
	result = only(routing_endpoint_check(press.url, DOMAIN, press.token), [press.token])
	assert result.ok, result
	assert result.detail.startswith(f"{SITE} serves Traefik ")
	assert result.detail.endswith(" router(s) for the token, none without it")
	with_token, without_token = press.requests
	for request in (with_token, without_token):
		assert request.path == "/api/method/press.api.selfhost_traefik.config"
		assert request.headers["Host"] == request.headers["X-Frappe-Site-Name"] == SITE
		assert "Authorization" not in request.headers and "Cookie" not in request.headers  # a Guest
	assert with_token.headers["X-Traefik-Token"] == press.token
	assert "X-Traefik-Token" not in without_token.headers


def test_routing_endpoint_refusing_the_token_says_the_tokens_differ(press):
	token = wrong("traefik-token")
	refused = only(routing_endpoint_check(press.url, DOMAIN, token), [token, press.token])
	assert not refused.ok
	assert refused.detail == "the routing endpoint refused the token (HTTP 401)"
	assert "traefik_config_token" in refused.fix and "Traefik's providers.http headers" in refused.fix


def test_routing_endpoint_refused_by_presss_auth_hook_says_so(press):
	press.rules = dataclasses.replace(
		press.rules, allowed_wildcard_paths=()
	)  # a Press whose hook no longer lets Guests reach press.api.*
	refused = only(routing_endpoint_check(press.url, DOMAIN, press.token), [press.token])
	assert not refused.ok
	assert refused.detail == (
		f"Press's auth hook refuses Traefik (Guest) at /api/method/{ROUTING_CONFIG_METHOD}: {REFUSAL_MESSAGE}"
	)
	assert refused.fix.startswith("Update press_selfhost on Press")
	assert "token" not in refused.detail + refused.fix


def test_routing_endpoint_on_a_press_selfhost_without_the_alias(press):
	press.overrides = {}
	missing = only(routing_endpoint_check(press.url, DOMAIN, press.token), [press.token])
	assert not missing.ok
	assert missing.detail == f"Press has no method {ROUTING_CONFIG_METHOD} (ValidationError)"
	assert "Update press_selfhost on Press and migrate" in missing.fix


def test_routing_endpoint_answering_without_the_token_is_a_leak(press):
	press.checks_token = False
	leak = only(routing_endpoint_check(press.url, DOMAIN, press.token), [press.token])
	assert not leak.ok
	assert leak.detail.endswith("answers without the token: anyone can read every route")


def test_routing_endpoint_not_a_config_wrong_site_errors_and_a_closed_port(press):
	press.fail_next(200, body={"hello": "a proxy page"})
	not_config = only(routing_endpoint_check(press.url, DOMAIN, press.token), [press.token])
	assert not not_config.ok and "not answer with a Traefik configuration" in not_config.detail
	other_site = only(routing_endpoint_check(press.url, "example.org", press.token), [press.token])
	assert not other_site.ok and "HTTP 404" in other_site.detail and "cloud.<domain>" in other_site.fix
	press.fail_next(500)
	broken = only(routing_endpoint_check(press.url, DOMAIN, press.token), [press.token])
	assert not broken.ok and "HTTP 500" in broken.detail
	closed = unused_url()
	down = only(routing_endpoint_check(closed, DOMAIN, press.token, timeout=2), [press.token])
	assert not down.ok
	assert down.detail == f"{closed}{ROUTING_CONFIG_PATH} is unreachable (ConnectionError)"
	assert "press_upstream_url" in down.fix


# -- Lago's and Postal's webhooks, as Guest -------------------------------------------------------

WEBHOOKS = [
	pytest.param("Lago", LAGO_WEBHOOK_METHOD, lago_webhook_reachable_check, id="lago"),
	pytest.param("Postal", POSTAL_WEBHOOK_METHOD, postal_webhook_reachable_check, id="postal"),
]


@pytest.mark.parametrize("caller, method, check", WEBHOOKS)
def test_a_guests_unsigned_delivery_reaches_our_code_and_is_refused_there(press, caller, method, check):
	result = only(check(press.url, DOMAIN), [])
	assert result.ok, result
	assert result.detail.startswith(
		f"{caller} (Guest) reaches press_selfhost at {press.url}/api/method/{method}, which refuses an unsigned body ("
	)
	[request] = press.requests
	assert (request.method, request.body, request.headers["X-Frappe-Site-Name"]) == ("POST", b"{}", SITE)
	assert "Authorization" not in request.headers
	assert press.stored == []


@pytest.mark.parametrize("caller, method, check", WEBHOOKS)
def test_a_webhook_refused_by_presss_auth_hook_names_the_caller(press, caller, method, check):
	press.rules = dataclasses.replace(press.rules, allowed_wildcard_paths=())
	result = only(check(press.url, DOMAIN), [])
	assert not result.ok
	assert (
		result.detail
		== f"Press's auth hook refuses {caller} (Guest) at /api/method/{method}: {REFUSAL_MESSAGE}"
	)
	assert method in result.fix


@pytest.mark.parametrize("caller, method, check", WEBHOOKS)
def test_a_webhook_on_a_press_selfhost_without_the_alias(press, caller, method, check):
	press.overrides = {}
	result = only(check(press.url, DOMAIN), [])
	assert not result.ok and result.detail == f"Press has no method {method} (ValidationError)"


@pytest.mark.parametrize("caller, method, check", WEBHOOKS)
def test_a_webhook_accepting_an_unsigned_delivery_fails(press, caller, method, check):
	press.fail_next(200, body={"message": {"received": True}})
	result = only(check(press.url, DOMAIN), [])
	assert not result.ok and result.detail.endswith(f"accepted an unsigned {caller} delivery")


@pytest.mark.parametrize("caller, method, check", WEBHOOKS)
def test_a_webhook_on_a_closed_port(caller, method, check):
	closed = unused_url()
	result = only(check(closed, DOMAIN, timeout=2), [])
	assert not result.ok
	assert result.detail == f"{closed}/api/method/{method} is unreachable (ConnectionError)"
	assert "press_upstream_url" in result.fix


def test_postal_webhook_without_its_key_refuses_every_delivery(press):
	press.postal_public_key_pem = ""
	result = only(postal_webhook_reachable_check(press.url, DOMAIN), [])
	assert not result.ok
	assert result.detail.endswith("refuses every delivery: the webhook key is not configured; retry later")
	assert "postal_webhook_public_key" in result.fix
