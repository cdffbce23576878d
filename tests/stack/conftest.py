"""tests/stack: the running compose stack, used over the network from outside as its users use it.

Run with `dev/stack test` (or pytest tests/stack) after `dev/stack up`. Without a running stack
(CI, which has no container engine, or a stopped engine) every test here is skipped with the reason.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
import urllib3

from tests.support.compose import parse_env_file

REPOSITORY = Path(__file__).resolve().parents[2]
ENV_FILE = REPOSITORY / "compose/.env"
OVERRIDE = REPOSITORY / "tests/stack/compose.override.yaml"
PROJECT = "press-selfhost"

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


class Stack:
	"""The stack's compose files, settings and loopback ports, as dev/stack started it."""

	def __init__(self, env: dict[str, str]):
		self.env = env
		self.domain = env["DOMAIN"]
		self.https_port = int(os.environ.get("STACK_HTTPS_PORT", "18443"))
		self.http_port = int(os.environ.get("STACK_HTTP_PORT", "18080"))

	def compose(self, *arguments: str) -> str:
		"""`docker compose` on the stack's files; the CLI's own output, never a secret."""
		command = [
			"docker",
			"compose",
			"-p",
			PROJECT,
			"-f",
			str(REPOSITORY / "compose/compose.yaml"),
			"-f",
			str(OVERRIDE),
			"--env-file",
			str(ENV_FILE),
			*arguments,
		]
		environment = {**os.environ, "COMPOSE_PROFILES": os.environ.get("STACK_PROFILES", "")}
		environment.setdefault("DOCKER_GID", "0")
		return subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stdout

	def services(self) -> list[dict]:
		"""`docker compose ps -a` as one dict per container."""
		output = self.compose("ps", "-a", "--format", "json").strip()
		if output.startswith("["):
			return json.loads(output)
		return [json.loads(line) for line in output.splitlines() if line.strip()]

	def get(self, host: str, path: str, *, scheme: str = "https", **kwargs) -> requests.Response:
		"""A request to <host>.<DOMAIN> through Traefik's published port, as a browser sends it.

		The stack's certificate is Traefik's self-signed default on DOMAIN=localhost: not verified.
		"""
		port = self.https_port if scheme == "https" else self.http_port
		headers = {"Host": f"{host}.{self.domain}", **kwargs.pop("headers", {})}
		return requests.get(
			f"{scheme}://127.0.0.1:{port}{path}",
			headers=headers,
			verify=False,  # noqa: S501 (Traefik's self-signed default certificate)
			allow_redirects=False,
			timeout=30,
			**kwargs,
		)


def _why_no_stack() -> str | None:
	if shutil.which("docker") is None:
		return "no docker CLI on this machine (CI has no container engine): start one with dev/stack up"
	if not ENV_FILE.exists():
		return "compose/.env does not exist: the stack was never started here (dev/stack up)"
	if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
		return "the container engine is not running: dev/stack up starts it and the stack"
	running = subprocess.run(
		["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"],
		capture_output=True,
		text=True,
	).stdout.split()
	if not running:
		return f"no container of the compose project {PROJECT} is running: dev/stack up"
	return None


@pytest.fixture(scope="session")
def stack() -> Stack:
	reason = _why_no_stack()
	if reason:
		pytest.skip(f"tests/stack needs a running stack: {reason}")
	return Stack(parse_env_file(ENV_FILE.read_text()))
