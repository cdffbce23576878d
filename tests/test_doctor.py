"""The doctor's checks against real MariaDB and SMTP servers and a Keycloak discovery stand-in."""

import json
import secrets
import time

import pytest

from press_selfhost.identity.checks import oidc_discovery_check
from press_selfhost.mail.checks import smtp_login_check
from press_selfhost.setup.checks import mariadb_root_check, press_records_check
from press_selfhost.setup.doctor import (
	PRESS_RECORDS,
	REDACTED,
	all_ok,
	configured_checks,
	results_json,
	results_text,
	run_checks,
)
from press_selfhost.setup.health import Check, CheckFailed
from tests.standins.keycloak_discovery import KeycloakDiscoveryStandIn
from tests.support.processes import free_port


@pytest.fixture
def keycloak():
	with KeycloakDiscoveryStandIn() as stand_in:
		yield stand_in


def only(check: Check, secrets=()):
	[result] = run_checks([check], secrets)
	return result


def test_mariadb_root_with_the_right_password_passes(mariadb_server):
	result = only(mariadb_root_check("127.0.0.1", mariadb_server.port, ""))
	assert result.ok, result
	assert "root can create site databases" in result.detail


def test_mariadb_wrong_root_password_fails_with_the_fix_and_without_the_password(mariadb_server):
	password = "not-the-root-password-" + secrets.token_hex(4)
	result = only(mariadb_root_check("127.0.0.1", mariadb_server.port, password), [password])
	assert not result.ok
	assert "refused root's password" in result.detail
	assert "mariadb_root_password" in result.fix
	assert password not in results_json([result])


def test_mariadb_unreachable_says_so():
	result = only(mariadb_root_check("127.0.0.1", free_port(), "x", timeout=2))
	assert not result.ok
	assert "unreachable" in result.detail and "Start MariaDB" in result.fix


def test_smtp_login_passes_and_a_wrong_password_fails(smtp_server):
	good = only(smtp_login_check("127.0.0.1", smtp_server.port, smtp_server.username, smtp_server.password))
	assert good.ok, good
	bad = only(
		smtp_login_check("127.0.0.1", smtp_server.port, smtp_server.username, "wrong-smtp-password"),
		["wrong-smtp-password"],
	)
	assert not bad.ok
	assert "refused the login" in bad.detail and "535" in bad.detail
	assert "postal_smtp_password" in bad.fix
	assert "wrong-smtp-password" not in results_text([bad])


def test_smtp_unreachable_says_so():
	result = only(smtp_login_check("127.0.0.1", free_port(), "user", "password", timeout=2))
	assert not result.ok and "unreachable" in result.detail


def test_keycloak_discovery_document_of_a_known_realm_passes(keycloak):
	result = only(oidc_discovery_check(keycloak.url, "cloud"))
	assert result.ok, result
	assert f"{keycloak.url}/realms/cloud" in result.detail


def test_keycloak_unknown_realm_and_server_errors_fail_with_their_fix(keycloak):
	unknown = only(oidc_discovery_check(keycloak.url, "nope"))
	assert not unknown.ok and "no realm 'nope'" in unknown.detail and "keycloak_realm" in unknown.fix
	keycloak.fail_next(503)
	failing = only(oidc_discovery_check(keycloak.url, "cloud"))
	assert not failing.ok and "HTTP 503" in failing.detail
	keycloak.fail_next(200, body={"hello": "a proxy page"})
	not_discovery = only(oidc_discovery_check(keycloak.url, "cloud"))
	assert not not_discovery.ok and "not an OpenID discovery document" in not_discovery.detail


def test_a_slow_service_fails_at_its_time_limit_not_later(keycloak):
	keycloak.delay_next(3)
	started = time.monotonic()
	result = only(oidc_discovery_check(keycloak.url, "cloud", timeout=0.5))
	assert not result.ok
	assert time.monotonic() - started < 2.5


def test_the_runner_bounds_a_probe_that_hangs_and_turns_crashes_into_failures():
	def hangs():
		time.sleep(5)
		return "never"

	def crashes():
		raise RuntimeError("boom with token s3cr3t-token")

	results = run_checks(
		[Check("hangs", hangs, timeout=0.2), Check("crashes", crashes, fix_on_error="Restart it.")],
		["s3cr3t-token"],
	)
	assert [(r.name, r.ok) for r in results] == [("hangs", False), ("crashes", False)]
	assert "no answer within 0.2 s" in results[0].detail
	assert results[1].detail == f"RuntimeError: boom with token {REDACTED}"
	assert results[1].fix == "Restart it."
	assert not all_ok(results)


def test_json_and_text_output():
	def passes():
		return "fine"

	def fails():
		raise CheckFailed("broken", "Fix it this way.")

	results = run_checks([Check("good", passes), Check("bad", fails)])
	document = json.loads(results_json(results))
	assert document["ok"] is False
	assert document["checks"][1] == {
		"name": "bad",
		"ok": False,
		"detail": "broken",
		"fix": "Fix it this way.",
	}
	assert results_text(results).splitlines() == [
		"✓ good: fine",
		"✗ bad: broken",
		"    fix: Fix it this way.",
	]


def test_checks_follow_the_settings(smtp_server, keycloak):
	checks, secret_values = configured_checks(
		{
			"postal_smtp_host": "127.0.0.1",
			"postal_smtp_port": smtp_server.port,
			"postal_smtp_username": smtp_server.username,
			"postal_smtp_password": smtp_server.password,
			"keycloak_url": keycloak.url,
			"keycloak_realm": "cloud",
		}
	)
	results = run_checks(checks, secret_values)
	assert [(r.name, r.ok) for r in results] == [
		("Traefik routing endpoint", False),
		("Agent ping", False),
		("Proxy service ping", False),
		("MariaDB root access", False),
		("Keycloak realm discovery", True),
		("Postal SMTP login", True),
	]
	assert "database_server_private_ip" in results[3].fix
	assert smtp_server.password in secret_values


@pytest.mark.parametrize(
	("statuses", "benches", "ok", "says"),
	[
		({"n1.x": "Active", "m1.x": "Active", "f1.x": "Active"}, 1, True, "3 servers Active, 1 bench"),
		({"n1.x": "Active", "m1.x": "Active", "f1.x": "Pending"}, 0, False, "not Active: f1.x (Pending)"),
		({"n1.x": "Active", "m1.x": "Active", "f1.x": "Active"}, 0, False, "bench image"),
		({}, 0, False, "no servers"),
	],
)
def test_press_servers_and_bench_say_what_bootstrap_has_not_reached(statuses, benches, ok, says):
	(result,) = run_checks([press_records_check(statuses, benches)])
	assert result.ok is ok
	assert says in result.detail
	assert ok or "press-selfhost bootstrap" in result.fix


def test_the_doctor_checks_press_records_only_when_the_shell_read_them():
	names = [check.name for check in configured_checks({})[0]]
	assert "Press servers and bench" not in names
	values = {PRESS_RECORDS: {"server_statuses": {"f1.x": "Pending"}, "active_benches": 0}}
	assert "Press servers and bench" in [check.name for check in configured_checks(values)[0]]
