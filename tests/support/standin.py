"""The base of our HTTP stand-ins: small real HTTP servers that speak a documented API on 127.0.0.1.

A stand-in replaces a system we cannot run here (the Agent, Lago, Postal, Keycloak's admin API) at the
network edge only: our code talks HTTP to it exactly as it would to the real system. Subclasses
register routes; tests inject faults (an error status, a delay, a dropped connection) to prove
that retries and error handling work over a real socket.
"""

import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
	method: str
	path: str
	query: dict[str, list[str]]
	headers: Message
	body: bytes
	params: dict[str, str] = field(default_factory=dict)

	def json(self):
		return json.loads(self.body or b"null")


@dataclass
class Response:
	status: int = 200
	body: object = b""
	headers: dict[str, str] = field(default_factory=dict)

	def encode(self) -> tuple[bytes, dict[str, str]]:
		headers = dict(self.headers)
		if isinstance(self.body, bytes):
			return self.body, headers
		if isinstance(self.body, str):
			headers.setdefault("Content-Type", "text/plain; charset=utf-8")
			return self.body.encode(), headers
		headers.setdefault("Content-Type", "application/json")
		return json.dumps(self.body).encode(), headers


@dataclass
class Fault:
	"""What to do instead of (or before) answering: an error status, a delay, or a dropped connection."""

	status: int | None = None
	body: object = None
	delay: float = 0.0
	drop: bool = False
	path_pattern: str | None = None

	def applies_to(self, path: str) -> bool:
		return self.path_pattern is None or re.search(self.path_pattern, path) is not None


Handler = Callable[[Request], Response]


class _QuietServer(ThreadingHTTPServer):
	daemon_threads = True

	def handle_error(self, request, client_address):
		"""A client that gave up (timeout tests, dropped connections) is expected; anything else is not."""
		if not isinstance(sys.exc_info()[1], ConnectionError):
			super().handle_error(request, client_address)


class HTTPStandIn:
	"""A threaded HTTP/1.1 server on 127.0.0.1 with a route table, a request log and fault injection."""

	name = "HTTP stand-in"

	def __init__(self):
		self._routes: list[tuple[str, re.Pattern, Handler]] = []
		self._faults: deque[Fault] = deque()
		self._lock = threading.Lock()
		self.requests: list[Request] = []
		self._server: ThreadingHTTPServer | None = None
		self._thread: threading.Thread | None = None

	# -- set-up -------------------------------------------------------------------------------
	def route(self, method: str, pattern: str, handler: Handler) -> None:
		"""Answer `method` on paths matching `pattern` (a regex, anchored; named groups become params)."""
		self._routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

	def start(self, host: str = "127.0.0.1", port: int = 0) -> "HTTPStandIn":
		"""Listen on loopback at a free port; only a containerised stand-in (tests/stack) passes others."""
		stand_in = self

		class RequestHandler(BaseHTTPRequestHandler):
			protocol_version = "HTTP/1.1"
			# Headers and body go out in separate writes; with Nagle on, each answer waits ~40 ms for an ACK.
			disable_nagle_algorithm = True

			def do_request(self):
				stand_in._handle(self)

			do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_request

			def log_message(self, format, *args):  # keep test output clean
				pass

		self._server = _QuietServer((host, port), RequestHandler)
		self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)
		self._thread.start()
		return self

	def stop(self) -> None:
		if self._server:
			self._server.shutdown()
			self._server.server_close()
			self._server = None

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc_info):
		self.stop()

	@property
	def port(self) -> int:
		assert self._server, f"{self.name} is not started"
		return self._server.server_address[1]

	@property
	def url(self) -> str:
		return f"http://127.0.0.1:{self.port}"

	# -- faults ---------------------------------------------------------------------------------
	def inject(self, fault: Fault, times: int = 1) -> None:
		"""Apply `fault` to the next `times` requests it applies to."""
		with self._lock:
			self._faults.extend([fault] * times)

	def fail_next(
		self, status: int, times: int = 1, body: object = None, path_pattern: str | None = None
	) -> None:
		self.inject(Fault(status=status, body=body, path_pattern=path_pattern), times)

	def delay_next(self, seconds: float, times: int = 1, path_pattern: str | None = None) -> None:
		self.inject(Fault(delay=seconds, path_pattern=path_pattern), times)

	def drop_next(self, times: int = 1, path_pattern: str | None = None) -> None:
		"""Close the connection without an answer (the request may or may not have been acted on)."""
		self.inject(Fault(drop=True, path_pattern=path_pattern), times)

	def requests_to(self, method: str, pattern: str) -> list[Request]:
		matcher = re.compile(f"^{pattern}$")
		with self._lock:
			return [r for r in self.requests if r.method == method.upper() and matcher.match(r.path)]

	# -- serving --------------------------------------------------------------------------------
	def _take_fault(self, path: str) -> Fault | None:
		with self._lock:
			for fault in self._faults:
				if fault.applies_to(path):
					self._faults.remove(fault)
					return fault
		return None

	def _handle(self, handler: BaseHTTPRequestHandler) -> None:
		url = urlsplit(handler.path)
		length = int(handler.headers.get("Content-Length") or 0)
		body = handler.rfile.read(length) if length else b""
		request = Request(handler.command, url.path, parse_qs(url.query), handler.headers, body)
		with self._lock:
			self.requests.append(request)

		fault = self._take_fault(url.path)
		if fault and fault.delay:
			time.sleep(fault.delay)
		if fault and fault.drop:
			handler.close_connection = True
			handler.connection.shutdown(socket.SHUT_RDWR)
			return
		if fault and fault.status:
			response = Response(
				fault.status, fault.body if fault.body is not None else {"error": "injected fault"}
			)
		else:
			response = self._dispatch(request)
		self._write(handler, response)

	def _dispatch(self, request: Request) -> Response:
		path_matched = False
		for method, pattern, route_handler in self._routes:
			match = pattern.match(request.path)
			if not match:
				continue
			path_matched = True
			if method == request.method:
				request.params = match.groupdict()
				return route_handler(request)
		if path_matched:
			return Response(405, {"error": f"method {request.method} not allowed on {request.path}"})
		return Response(404, {"error": f"no route for {request.method} {request.path}"})

	def _write(self, handler: BaseHTTPRequestHandler, response: Response) -> None:
		payload, headers = response.encode()
		handler.send_response(response.status)
		for name, value in headers.items():
			handler.send_header(name, value)
		handler.send_header("Content-Length", str(len(payload)))
		handler.end_headers()
		if handler.command != "HEAD":
			handler.wfile.write(payload)
