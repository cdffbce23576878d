"""The bench gateway for real: the compose command line, a real HTTP "bench" on loopback, real sockets.

On the Docker host a bench answers on 127.0.0.1:<web_port> and the gateway listens on the
frontend bridge's address; here the gateway listens on 127.0.0.2 (also loopback on Linux) and
forwards to 127.0.0.1, which is the same shape with nothing of Docker's.
"""

import http.server
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
import urllib3

from press_selfhost.routing.bench_gateway import ALLOWED_PORTS, bench_ports
from tests.support.compose import load_raw
from tests.support.processes import stop_process, wait_until

GATEWAY_HOST = "127.0.0.2"


def free_port_in_bench_range() -> int:
	"""A port Press could give a bench, free on both loopback addresses."""
	for port in range(18000 + (time.monotonic_ns() % 900), ALLOWED_PORTS.stop):
		try:
			with socket.socket() as first, socket.socket() as second:
				first.bind(("127.0.0.1", port))
				second.bind((GATEWAY_HOST, port))
				return port
		except OSError:
			continue
	raise RuntimeError("no free port in the bench range")


class Bench(http.server.ThreadingHTTPServer):
	"""A bench's web port: answers with the Host header it received, as a site would by Host."""

	def __init__(self, port: int):
		class Handler(http.server.BaseHTTPRequestHandler):
			def do_GET(self):
				body = json.dumps({"host": self.headers["Host"], "path": self.path}).encode()
				self.send_response(200)
				self.send_header("Content-Length", str(len(body)))
				self.end_headers()
				self.wfile.write(body)

			def log_message(self, *arguments):
				pass

		super().__init__(("127.0.0.1", port), Handler)
		self.thread = threading.Thread(target=self.serve_forever, daemon=True)
		self.thread.start()

	def stop(self):
		self.shutdown()
		self.server_close()


def write_bench(benches, name: str, **config) -> None:
	(benches / name).mkdir(exist_ok=True)
	(benches / name / "config.json").write_text(json.dumps({"docker_image": "x", **config}))


def connects(port: int) -> bool:
	try:
		socket.create_connection((GATEWAY_HOST, port), timeout=1).close()
		return True
	except OSError:
		return False


def start_gateway(tmp_path, *extra_arguments: str) -> dict:
	benches = tmp_path / "benches"
	benches.mkdir()
	heartbeat = tmp_path / "heartbeat"
	log = tmp_path / "gateway.log"
	with log.open("w") as output:
		process = subprocess.Popen(
			[
				sys.executable,
				"-m",
				"press_selfhost.routing.bench_gateway",
				"--listen",
				GATEWAY_HOST,
				"--benches",
				str(benches),
				"--interval",
				"0.1",
				"--heartbeat",
				str(heartbeat),
				*extra_arguments,
			],
			stdout=output,
			stderr=subprocess.STDOUT,
		)
	wait_until(heartbeat.exists, what="the bench gateway's first scan", process=process, log=log)
	return {"benches": benches, "process": process, "log": log}


@pytest.fixture
def gateway(tmp_path):
	started = start_gateway(tmp_path)
	yield started
	stop_process(started["process"])


def test_a_fixed_port_is_forwarded_without_any_bench(tmp_path):
	"""--also-port 3306 in compose: benches reach MariaDB at the gateway address (Traefik on 127.0.0.1:3306)."""
	with socket.create_server(("127.0.0.1", 0)) as database:
		port = database.getsockname()[1]
		started = start_gateway(tmp_path, "--also-port", str(port))
		try:
			database.settimeout(5)
			with socket.create_connection((GATEWAY_HOST, port), timeout=5) as client:
				connection, _ = database.accept()
				with connection:
					connection.sendall(b"5.5.5-10.6.21-MariaDB")
					assert client.recv(100) == b"5.5.5-10.6.21-MariaDB"
		finally:
			stop_process(started["process"])


def test_a_site_on_a_bench_is_reached_through_the_gateway_with_its_host(gateway):
	port = free_port_in_bench_range()
	bench = Bench(port)
	try:
		write_bench(gateway["benches"], "bench-0001", web_port=port, socketio_port=port + 1)
		wait_until(lambda: connects(port), what="the gateway listening", process=gateway["process"])
		response = urllib3.HTTPConnectionPool(GATEWAY_HOST, port, retries=False).request(
			"GET", "/api/method/ping", headers={"Host": "acme.example.com"}, timeout=5
		)
		assert response.status == 200
		assert response.json() == {"host": "acme.example.com", "path": "/api/method/ping"}
	finally:
		bench.stop()


def test_bytes_flow_both_ways_and_a_half_close_still_gets_the_answer(gateway):
	"""Raw TCP: what WebSockets (socket.io) need; the client stops sending, the bench still answers."""
	port = free_port_in_bench_range()
	with socket.socket() as listener:
		listener.bind(("127.0.0.1", port))
		listener.listen()
		write_bench(gateway["benches"], "bench-0002", web_port=port)
		wait_until(lambda: connects(port), what="the gateway listening", process=gateway["process"])
		listener.settimeout(5)
		# The successful probe of wait_until reached the bench once: take that connection to its end.
		probe, _ = listener.accept()
		with probe:
			probe.settimeout(5)
			assert probe.recv(100) == b""
		client = socket.create_connection((GATEWAY_HOST, port), timeout=5)
		bench, _ = listener.accept()
		with client, bench:
			bench.settimeout(5)
			client.sendall(b"hello")
			client.shutdown(socket.SHUT_WR)
			received = b""
			while chunk := bench.recv(100):
				received += chunk
			assert received == b"hello"
			bench.sendall(b"answer")
			bench.shutdown(socket.SHUT_WR)
			assert client.recv(100) == b"answer"


def test_removed_benches_are_closed_and_a_stopped_bench_just_ends_the_connection(gateway):
	port = free_port_in_bench_range()
	write_bench(gateway["benches"], "bench-0003", web_port=port)
	wait_until(lambda: connects(port), what="the gateway listening", process=gateway["process"])
	# Nothing listens on 127.0.0.1:port: the gateway closes the connection without an answer.
	with socket.create_connection((GATEWAY_HOST, port), timeout=5) as client:
		client.sendall(b"GET / HTTP/1.1\r\n\r\n")
		assert client.recv(100) == b""
	(gateway["benches"] / "bench-0003" / "config.json").unlink()
	wait_until(lambda: not connects(port), what="the gateway closing the port", process=gateway["process"])


def test_only_bench_ports_of_readable_configs_are_opened(tmp_path):
	write_bench(tmp_path, "a", web_port=18001, socketio_port=19001, ssh_port=22001, codeserver_port=16001)
	write_bench(tmp_path, "b", web_port=3306, socketio_port=True)
	write_bench(tmp_path, "c", web_port="18002")
	(tmp_path / "d").mkdir()
	(tmp_path / "d" / "config.json").write_text('{"web_port": 180')
	(tmp_path / "e").mkdir()
	(tmp_path / "e" / "config.json").write_text("[18003]")
	assert bench_ports(tmp_path) == {18001, 19001}


def test_compose_runs_the_gateway_on_the_frontend_gateway_address():
	"""The address the gateway listens on is the frontend bridge's gateway, which Traefik reaches."""
	document = load_raw()
	service = document["services"]["bench-gateway"]
	command = service["command"]
	assert command[:3] == [
		"/home/frappe/frappe-bench/env/bin/python",
		"-m",
		"press_selfhost.routing.bench_gateway",
	]
	listen = command[command.index("--listen") + 1]
	ipam = document["networks"]["frontend"]["ipam"]["config"][0]
	assert listen == ipam["gateway"] == "${BENCH_GATEWAY_ADDRESS:?set BENCH_GATEWAY_ADDRESS in compose/.env}"
	assert command[command.index("--benches") + 1] == "/home/frappe/benches"
	assert command[command.index("--also-port") + 1] == "3306"
	assert "/home/frappe/benches:/home/frappe/benches:ro" in service["volumes"]
