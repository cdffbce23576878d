"""Bootstrap marks nothing ready that it has not reached: the bench image in the real Docker registry,
and every server's agent where Press calls it."""

import pytest

from press_selfhost.setup.bootstrap_records import BootstrapSettings
from press_selfhost.setup.doctor import run_checks
from press_selfhost.setup.reachability import bench_image_check, image_reference, unreached
from tests.support.processes import free_port


@pytest.mark.parametrize(
	("image", "expected"),
	[
		("registry.example.com/bench:v1", ("bench", "v1")),
		("registry.example.com/press/bench:2026.12", ("press/bench", "2026.12")),
		("127.0.0.1:5000/bench", ("bench", "latest")),
		("localhost/bench:v2", ("bench", "v2")),
		("press/bench:v3", ("press/bench", "v3")),
		("registry.example.com/bench@sha256:" + "a" * 64, ("bench", "sha256:" + "a" * 64)),
	],
)
def test_image_reference_is_the_repository_and_tag_inside_the_registry(image, expected):
	assert image_reference(image) == expected


def _check(registry, image, password=None):
	(result,) = run_checks(
		[bench_image_check(registry.url, image, registry.username, password or registry.password, timeout=5)],
		secrets=[registry.password, password or ""],
	)
	return result


def test_a_pushed_image_is_found_and_a_missing_one_is_named(registry_server):
	registry_server.push_image("selfhost/bench", "v1")
	found = _check(registry_server, "registry.example.com/selfhost/bench:v1")
	assert found.ok, found.detail
	missing = _check(registry_server, "registry.example.com/selfhost/bench:v2")
	assert not missing.ok
	assert "selfhost/bench:v2 is not in the registry" in missing.detail
	assert "push" in missing.fix


def test_a_wrong_login_and_a_registry_that_is_down_say_so_without_the_password(registry_server):
	refused = _check(registry_server, "selfhost/bench:v1", password="not-the-password")
	assert not refused.ok
	assert "refused the login" in refused.detail
	assert "not-the-password" not in refused.detail + refused.fix
	(result,) = run_checks(
		[bench_image_check(f"http://127.0.0.1:{free_port()}", "selfhost/bench:v1", "press", "pw", timeout=2)]
	)
	assert not result.ok
	assert "unreachable" in result.detail


def test_nothing_reached_names_every_record_and_why_without_a_secret(registry_server):
	settings = BootstrapSettings(
		domain="reach.invalid",
		admin_email="admin@example.com",
		app_server_private_ip="127.0.0.1",
		proxy_server_private_ip="127.0.0.1",
		database_server_private_ip="m1.reach.invalid",
		app_agent_password="app-agent-secret",
		proxy_agent_password="proxy-agent-secret",
		mariadb_root_password="root-secret",
		bench_image="selfhost/bench:never-pushed",
		docker_registry_url=registry_server.url,
		docker_registry_username=registry_server.username,
		docker_registry_password=registry_server.password,
	)
	why = unreached(settings, timeout=2)
	assert set(why) == {"Server", "Proxy Server", "Database Server", "Bench image"}
	assert "https://f1.reach.invalid/agent" in why["Server"]
	assert "https://n1.reach.invalid/agent" in why["Proxy Server"]
	assert "never-pushed is not in the registry" in why["Bench image"]
	for secret in ("app-agent-secret", "proxy-agent-secret", "root-secret", registry_server.password):
		assert secret not in repr(why)
