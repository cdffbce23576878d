"""The agent image's stand-ins for sudo, systemctl and nginx: the stock agent's reloads succeed, nothing else."""

import os
import subprocess

import pytest

from tests.support.compose import COMPOSE_DIR

SHIM = COMPOSE_DIR / "images" / "agent" / "nginx-shims.sh"


@pytest.fixture(scope="module")
def shims(tmp_path_factory):
	directory = tmp_path_factory.mktemp("shims")
	for name in ("sudo", "systemctl", "nginx"):
		(directory / name).symlink_to(SHIM)
	return directory


def _run(shims, *command):
	environment = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}"}
	return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=10)


@pytest.mark.parametrize(
	"command",
	[
		("sudo", "systemctl", "reload", "nginx"),
		("sudo", "systemctl", "status", "nginx"),
		("sudo", "nginx", "-t"),
		("sudo", "nginx", "-s", "reload"),
	],
)
def test_the_stock_agents_nginx_reloads_succeed(shims, command):
	result = _run(shims, *command)
	assert result.returncode == 0
	assert "replaced by Traefik" in result.stdout


@pytest.mark.parametrize(
	"command",
	[
		("sudo", "systemctl", "reload", "prometheus"),
		("sudo", "nginx", "-s", "stop"),
		("systemctl", "stop", "docker"),
	],
)
def test_anything_else_fails(shims, command):
	result = _run(shims, *command)
	assert result.returncode == 1
	assert "not available" in result.stderr


def test_sudo_runs_as_the_same_user(shims):
	assert _run(shims, "sudo", "id", "-u").stdout.strip() == str(os.getuid())
