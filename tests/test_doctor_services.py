"""The doctor's checks of the Agent, the proxy service, MinIO, Lago and Postal, and all checks from settings.

Each check runs through the real runner against our stand-ins (or the real proxy service, or moto's
S3), passing and failing, and no secret it was given appears in its output.
"""

import secrets
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from press_selfhost.backups import buckets as bucket_config
from press_selfhost.backups import s3
from press_selfhost.backups.checks import minio_buckets_check
from press_selfhost.billing.checks import (
	OLD_LAGO_WEBHOOK_PATH,
	STACK_LAGO_WEBHOOK_URL,
	lago_api_key_check,
	lago_webhook_check,
	lago_webhook_url,
)
from press_selfhost.mail.checks import postal_api_key_check
from press_selfhost.routing.checks import agent_ping_check, proxy_agent_ping_check, proxy_agent_url
from press_selfhost.routing.proxy_agent.app import ProxyAgent, ProxyAgentConfig
from press_selfhost.routing.proxy_agent.password import hash_password
from press_selfhost.routing.traefik import Route, SiteStatus
from press_selfhost.setup.doctor import (
	SECRET_SETTINGS,
	configured_checks,
	results_json,
	results_text,
	run_checks,
)
from tests.standins.agent import AgentStandIn
from tests.standins.lago import LagoStandIn
from tests.standins.postal import PostalSigner, PostalStandIn
from tests.standins.press import PressWebStandIn
from tests.support.doctor import only, unused_url, wrong

DOMAIN = "example.com"
PROXY_PASSWORD = "proxy-agent-password-" + secrets.token_hex(8)


class _Quiet(WSGIRequestHandler):
	def log_message(self, format, *args):
		pass


@pytest.fixture(scope="module")
def proxy_agent(tmp_path_factory):
	"""press_selfhost's real proxy service (its WSGI app) on 127.0.0.1."""
	config = ProxyAgentConfig(
		f"n1.{DOMAIN}",
		hash_password(PROXY_PASSWORD),
		str(tmp_path_factory.mktemp("proxy") / "jobs.sqlite3"),
	)
	server = make_server("127.0.0.1", 0, ProxyAgent(config), handler_class=_Quiet)
	thread = threading.Thread(target=server.serve_forever, name="proxy agent", daemon=True)
	thread.start()
	yield f"127.0.0.1:{server.server_address[1]}"
	server.shutdown()
	server.server_close()


@pytest.fixture
def agent():
	with AgentStandIn("agent-password-" + secrets.token_hex(8)) as stand_in:
		yield stand_in


@pytest.fixture
def press():
	routes = (Route(f"acme.{DOMAIN}", f"acme.{DOMAIN}", "10.0.0.5", SiteStatus.ACTIVE),)
	token = "traefik-token-" + secrets.token_hex(8)
	with PressWebStandIn(
		DOMAIN, token, routes, postal_public_key_pem=PostalSigner().public_key_pem
	) as stand_in:
		yield stand_in


@pytest.fixture
def lago():
	with LagoStandIn(api_key="lago-key-" + secrets.token_hex(8)) as stand_in:
		yield stand_in


@pytest.fixture
def postal():
	with PostalStandIn("postal-key-" + secrets.token_hex(8)) as stand_in:
		yield stand_in


@pytest.fixture
def buckets(storage_settings):
	return storage_settings


# -- the stock Agent ------------------------------------------------------------------------------


def test_agent_answers_ping_with_the_stored_password(agent):
	result = only(agent_ping_check(agent.url, agent.password), [agent.password])
	assert result.ok, result
	assert "answers ping with the stored password" in result.detail


def test_agent_refusing_the_password_says_which_setting_to_fix(agent):
	password = wrong("agent-password")
	result = only(agent_ping_check(agent.url, password), [password])
	assert not result.ok
	assert result.detail == f"{agent.url} refused the password"
	assert "agent_password" in result.fix


def test_agent_down_says_to_start_it():
	result = only(agent_ping_check(unused_url(), "agent-password", timeout=2), ["agent-password"])
	assert not result.ok
	assert "is unreachable" in result.detail
	assert result.fix == "Start the agent and check agent_url in Selfhost Settings."


def test_agent_answering_something_else_than_pong(agent):
	agent.fail_next(200, body={"message": "hello"})
	other = only(agent_ping_check(agent.url, agent.password), [agent.password])
	assert not other.ok and other.detail == f"{agent.url} answered the ping without 'pong'"
	agent.fail_next(200, body=["not", "the", "agent"])
	odd = only(agent_ping_check(agent.url, agent.password), [agent.password])
	assert not odd.ok and odd.detail.startswith("AttributeError")
	assert odd.fix == "Check agent_url and agent_password."


# -- press_selfhost's proxy service ---------------------------------------------------------------


def test_proxy_service_answers_ping_with_the_proxy_password(proxy_agent):
	result = only(proxy_agent_ping_check(proxy_agent, PROXY_PASSWORD), [PROXY_PASSWORD])
	assert result.ok, result
	assert result.detail == f"http://{proxy_agent} answers ping with the stored password"


def test_proxy_service_with_a_wrong_password_or_down(proxy_agent):
	password = wrong("proxy-password")
	refused = only(proxy_agent_ping_check(proxy_agent, password), [password])
	assert not refused.ok
	assert "refused the password" in refused.detail and "proxy_agent_password" in refused.fix
	down = only(proxy_agent_ping_check(unused_url(), PROXY_PASSWORD, timeout=2), [PROXY_PASSWORD])
	assert not down.ok
	assert "is unreachable" in down.detail and "proxy_server_private_ip" in down.fix


# -- MinIO ----------------------------------------------------------------------------------------


def test_minio_buckets_as_ensure_buckets_left_them_pass(buckets):
	bucket_config.ensure_buckets(s3.storage_client(buckets), buckets)
	result = only(minio_buckets_check(buckets), [buckets.secret_key])
	assert result.ok, result
	assert "match their configuration" in result.detail


def test_minio_drift_is_reported_and_left_alone(buckets):
	client = s3.storage_client(buckets)
	bucket_config.ensure_buckets(client, buckets)
	client.delete_bucket_policy(Bucket=buckets.public_bucket)
	result = only(minio_buckets_check(buckets), [buckets.secret_key])
	assert not result.ok
	assert result.detail == f"{buckets.public_bucket} is not anonymously readable (and only readable)"
	assert "press-selfhost bootstrap" in result.fix
	assert bucket_config.bucket_policy(client, buckets.public_bucket) is None  # the doctor changed nothing


def test_minio_missing_buckets_and_down(buckets):
	missing = only(minio_buckets_check(buckets), [buckets.secret_key])
	assert not missing.ok and f"bucket {buckets.backups_bucket} is missing" in missing.detail
	# (A wrong key cannot be shown here: moto's S3, MinIO's stand-in, accepts any signature.)
	down = s3.StorageSettings(unused_url(), buckets.access_key, buckets.secret_key)
	unreachable = only(minio_buckets_check(down, timeout=3), [buckets.secret_key])
	assert not unreachable.ok
	assert "unreachable" in unreachable.detail or "no answer" in unreachable.detail
	assert "minio_endpoint_url" in unreachable.fix


# -- Lago -----------------------------------------------------------------------------------------


def test_lago_api_key_valid_and_webhook_configured(lago):
	lago.add_webhook_endpoint("https://elsewhere.example.net/hook")
	lago.add_webhook_endpoint(lago_webhook_url(DOMAIN))
	key = only(lago_api_key_check(lago.url, lago.api_key), [lago.api_key])
	assert key.ok, key
	hook = only(lago_webhook_check(lago.url, lago.api_key, DOMAIN), [lago.api_key])
	assert hook.ok, hook
	assert hook.detail == (
		f"Lago sends its webhooks to https://cloud.{DOMAIN}/api/method/press.api.selfhost_lago.webhook"
	)


def test_lago_webhook_to_press_inside_the_compose_stack_counts(lago):
	"""With DOMAIN=localhost Lago cannot reach cloud.localhost: it delivers through Traefik's internal entrypoint."""
	lago.add_webhook_endpoint(STACK_LAGO_WEBHOOK_URL + "/")
	hook = only(lago_webhook_check(lago.url, lago.api_key, DOMAIN), [lago.api_key])
	assert hook.ok, hook
	assert hook.detail == (
		"Lago sends its webhooks to http://traefik:8081/api/method/press.api.selfhost_lago.webhook"
	)


@pytest.mark.parametrize(
	"old_url, new_url",
	[
		(f"https://cloud.{DOMAIN}/api/method/press_selfhost.api.lago.webhook", lago_webhook_url(DOMAIN)),
		("http://traefik:8081/api/method/press_selfhost.api.lago.webhook", STACK_LAGO_WEBHOOK_URL),
	],
)
def test_lago_webhook_to_the_old_url_says_to_update_it(lago, old_url, new_url):
	"""The endpoint's own name, which Press's auth hook refuses to Lago: Lago's deliveries never arrive."""
	assert old_url.endswith(OLD_LAGO_WEBHOOK_PATH)
	lago.add_webhook_endpoint(old_url)
	result = only(lago_webhook_check(lago.url, lago.api_key, DOMAIN), [lago.api_key])
	assert not result.ok
	assert result.detail.startswith(f"old URL registered: Lago sends its webhooks to {old_url},")
	assert result.fix == f"Update the webhook in Lago → Developers → Webhooks to {new_url}."


def test_lago_webhook_missing_says_what_to_add(lago):
	lago.add_webhook_endpoint("https://elsewhere.example.net/hook")
	result = only(lago_webhook_check(lago.url, lago.api_key, DOMAIN), [lago.api_key])
	assert not result.ok
	assert "no webhook endpoint" in result.detail and "(1 other endpoint(s))" in result.detail
	assert result.fix == (
		f"Add {STACK_LAGO_WEBHOOK_URL} (Lago in the compose stack) or {lago_webhook_url(DOMAIN)}"
		" (Lago elsewhere) in Lago → Developers → Webhooks."
	)


def test_lago_wrong_key_and_down(lago):
	key = wrong("lago-key")
	refused = only(lago_api_key_check(lago.url, key), [key, lago.api_key])
	assert not refused.ok
	assert refused.detail == "Lago refused the API key (HTTP 401)" and "lago_api_key" in refused.fix
	down = only(lago_api_key_check(unused_url(), lago.api_key, timeout=5), [lago.api_key])
	assert not down.ok and "unreachable" in down.detail and "lago_api_url" in down.fix


# -- Postal ---------------------------------------------------------------------------------------


def test_postal_api_key_valid_sends_nothing(postal):
	result = only(postal_api_key_check(postal.url, postal.server_api_key), [postal.server_api_key])
	assert result.ok, result
	assert postal.accepted == []


def test_postal_wrong_key_and_down(postal):
	key = wrong("postal-key")  # Postal echoes a refused key back: the output must not
	refused = only(postal_api_key_check(postal.url, key), [key])
	assert not refused.ok
	assert refused.detail == "Postal refused the server API key (InvalidServerAPIKey)"
	assert "postal_server_api_key" in refused.fix
	down = only(postal_api_key_check(unused_url(), key, timeout=2), [key])
	assert not down.ok and "unreachable" in down.detail and "postal_url" in down.fix


# -- from Selfhost Settings -----------------------------------------------------------------------


def test_every_check_follows_the_settings_and_scrubs_every_secret(
	agent, proxy_agent, press, lago, postal, buckets
):
	bucket_config.ensure_buckets(s3.storage_client(buckets), buckets)
	lago.add_webhook_endpoint(lago_webhook_url(DOMAIN))
	values = {
		"domain": DOMAIN,
		"press_upstream_url": press.url,
		"traefik_config_token": press.token,
		"agent_url": agent.url,
		"agent_password": agent.password,
		"proxy_server_private_ip": proxy_agent,
		"proxy_agent_password": PROXY_PASSWORD,
		"minio_endpoint_url": buckets.endpoint_url,
		"minio_access_key": buckets.access_key,
		"minio_secret_key": buckets.secret_key,
		"backups_bucket": buckets.backups_bucket,
		"private_bucket": buckets.private_bucket,
		"public_bucket": buckets.public_bucket,
		"lago_api_url": lago.url,
		"lago_api_key": lago.api_key,
		"postal_url": postal.url,
		"postal_server_api_key": postal.server_api_key,
	}
	checks, secret_values = configured_checks(values)
	results = run_checks(checks, secret_values)
	assert [(r.name, r.ok) for r in results] == [
		("Traefik routing endpoint", True),
		("Agent ping", True),
		("Proxy service ping", True),
		("MariaDB root access", False),  # database_server_private_ip unset
		("MinIO buckets and policies", True),
		("Lago API key", True),
		("Lago webhook", True),
		("Lago webhook reachable", True),
		("Postal API key", True),
		("Postal webhook reachable", True),
	]
	for fieldname in SECRET_SETTINGS:
		if values.get(fieldname):
			assert values[fieldname] in secret_values

	broken = {
		fieldname: wrong(fieldname) if fieldname in SECRET_SETTINGS else value
		for fieldname, value in values.items()
	}
	checks, secret_values = configured_checks(broken)
	results = run_checks(checks, secret_values)
	assert [r.name for r in results if r.ok] == [
		"MinIO buckets and policies",  # moto ignores the key
		"Lago webhook reachable",  # the webhooks' probes carry no secret
		"Postal webhook reachable",
	]
	assert press.stored == []
	output = results_text(results) + results_json(results)
	for fieldname in SECRET_SETTINGS:
		if broken.get(fieldname):
			assert broken[fieldname] not in output


def test_unset_credentials_fail_naming_the_fields():
	checks, _ = configured_checks({"minio_endpoint_url": "http://minio:9000", "lago_api_url": "http://lago"})
	results = {r.name: r for r in run_checks(checks)}
	assert results["Agent ping"].detail == "agent_url, agent_password not set"
	assert (
		results["MinIO buckets and policies"].fix
		== "Set minio_access_key, minio_secret_key in Selfhost Settings."
	)
	assert results["Lago webhook"].detail == "lago_api_key, domain not set"
	assert "Postal API key" not in results


def test_proxy_address_forms():
	assert proxy_agent_url("proxy-agent") == "http://proxy-agent:25052"
	assert proxy_agent_url("10.0.0.7:8080") == "http://10.0.0.7:8080"
	assert proxy_agent_url("fd00::7") == "http://[fd00::7]:25052"
	assert proxy_agent_url("https://n1.example.com/agent/") == "https://n1.example.com/agent"
