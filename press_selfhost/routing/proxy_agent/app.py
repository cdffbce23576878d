"""The WSGI application: the stock agent's proxy routes, its authentication and its job endpoints.

Run it behind Traefik at `https://<proxy server name>/agent/` (the `/agent` prefix is accepted
with or without stripping), e.g. `gunicorn 'press_selfhost.routing.proxy_agent.app:create_app_from_environment()'`.
"""

import base64
import binascii
import hashlib
import json
import os
import platform
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from press_selfhost.errors import ConfigurationError
from press_selfhost.routing.proxy_agent.password import verify_password
from press_selfhost.routing.proxy_agent.store import JobStore

SEGMENT = "[^/]+"
UPSTREAM = f"/proxy/upstreams/{SEGMENT}"

# (method, path, job name, required body keys, steps): names and steps as the stock agent
# (agent/proxy.py) and Press's Agent Job Type fixtures have them. Static paths come first, as
# Flask matches them before variable ones.
PROXY_JOBS = (
	(
		"POST",
		"/proxy/upstreams",
		"Add Upstream to Proxy",
		("name",),
		("Add Upstream Directory", "Reload NGINX"),
	),
	(
		"POST",
		f"{UPSTREAM}/rename",
		"Rename Upstream",
		("name",),
		("Rename Upstream Directory", "Reload NGINX"),
	),
	(
		"POST",
		f"{UPSTREAM}/sites",
		"Add Site to Upstream",
		("name",),
		("Add Site File to Upstream Directory", "Reload NGINX"),
	),
	(
		"POST",
		f"{UPSTREAM}/domains",
		"Add Domain to Upstream",
		("domain",),
		("Add Site File to Upstream Directory", "Reload NGINX"),
	),
	(
		"DELETE",
		f"{UPSTREAM}/sites/{SEGMENT}",
		"Remove Site from Upstream",
		(),
		("Remove Site File from Upstream Directory",),
	),
	(
		"POST",
		f"{UPSTREAM}/sites/{SEGMENT}/rename",
		"Rename Site on Upstream",
		("new_name", "domains"),
		(
			"Rename Site File in Upstream Directory",
			"Rename Host Directory",
			"Rename Site in Host Directory",
			"Reload NGINX",
		),
	),
	(
		"POST",
		f"{UPSTREAM}/sites/{SEGMENT}/status",
		"Update Site Status",
		("status",),
		("Update Site File", "Reload NGINX"),
	),
	(
		"POST",
		"/proxy/hosts/redirects",
		"Setup Redirects on Hosts",
		("domains", "target"),
		("Remove Redirect on Host", "Setup Redirect on Host", "Reload NGINX"),
	),
	(
		"DELETE",
		"/proxy/hosts/redirects",
		"Remove Redirects on Hosts",
		("domains",),
		("Remove Redirect on Host",),
	),
	(
		"POST",
		"/proxy/hosts",
		"Add Host to Proxy",
		("name", "target", "certificate"),
		("Add Host to Proxy", "Reload NGINX"),
	),
	("DELETE", f"/proxy/hosts/{SEGMENT}", "Remove Host from Proxy", (), ("Remove Host from Proxy",)),
	(
		"POST",
		"/proxy/wildcards",
		"Add Wildcard Hosts to Proxy",
		(),
		("Add Wildcard Hosts to Proxy", "Reload NGINX"),
	),
	("POST", "/proxy/reload", "Reload NGINX Job", (), ("Reload NGINX",)),
	# Press 010bc70's Auto Scale Record (Server.secondary_server): weighted nginx upstreams.
	(
		"POST",
		f"{UPSTREAM}/auto-scale-site",
		"Add Auto Scale Site to Upstream",
		("secondary_upstreams",),
		("Add Auto Scale Site to Upstream", "Reload NGINX"),
	),
	(
		"POST",
		f"{UPSTREAM}/remove-auto-scale-site",
		"Remove Auto Scale Site from Upstream",
		(),
		("Remove Auto Scale Site from Upstream", "Reload NGINX"),
	),
	# Press's database access (Site.enable_database_access): ProxySQL users on the proxy.
	(
		"POST",
		"/proxysql/users",
		"Add User to ProxySQL",
		("username", "password", "database", "max_connections", "backend"),
		("Add User to ProxySQL",),
	),
	("DELETE", f"/proxysql/users/{SEGMENT}", "Remove User from ProxySQL", (), ("Remove User from ProxySQL",)),
	("POST", "/proxysql/backends", "Add Backend to ProxySQL", ("backend",), ("Add Backend to ProxySQL",)),
	# Press sends these once a Bench goes Active (Bench.add_ssh_user), for SSH into benches through
	# the proxy; a compose platform has no SSH proxy, so they are recorded like the rest.
	(
		"POST",
		"/ssh/users",
		"Add User to Proxy",
		("name", "principal", "ssh", "certificate"),
		("Add User to Proxy", "Add Certificate to User", "Add Principal to User"),
	),
	(
		"DELETE",
		f"/ssh/users/{SEGMENT}",
		"Remove User from Proxy",
		(),
		("Remove User from Proxy", "Remove Principal from User"),
	),
)
# What a job that changes nothing here tells Press (Agent Job.output), so an admin reading the job
# learns why it succeeded without doing anything.
_NO_PROXYSQL = (
	"No ProxySQL on this platform: sites reach MariaDB directly, so there is no ProxySQL to change. "
	"Database access for customers is not offered through the proxy."
)
JOB_OUTPUT = {
	"Add Auto Scale Site to Upstream": (
		"Recorded only: Traefik routes each site to the bench on its own server, read from Press, "
		"so the secondary upstreams are not added. Auto scale needs a shared bench directory, which "
		"this platform does not set up."
	),
	"Remove Auto Scale Site from Upstream": (
		"Recorded only: no secondary upstream was ever added, so sites keep going to their primary server."
	),
	"Add User to ProxySQL": _NO_PROXYSQL,
	"Remove User from ProxySQL": _NO_PROXYSQL,
	"Add Backend to ProxySQL": _NO_PROXYSQL,
}

_COMPILED_JOBS = tuple(
	(method, re.compile(f"^{path}$"), name, required, steps)
	for method, path, name, required, steps in PROXY_JOBS
)

STATUS_TEXT = {
	200: "200 OK",
	401: "401 UNAUTHORIZED",
	404: "404 NOT FOUND",
	405: "405 METHOD NOT ALLOWED",
	500: "500 INTERNAL SERVER ERROR",
}


@dataclass(frozen=True)
class ProxyAgentConfig:
	"""The service's config.json: the proxy's name, the agent password's hash, the job database."""

	name: str
	access_token: str
	jobs_database: str

	@classmethod
	def from_file(cls, path: str | Path) -> "ProxyAgentConfig":
		try:
			values = json.loads(Path(path).read_text())
		except (OSError, ValueError) as error:
			raise ConfigurationError(f"Proxy agent: cannot read its config file {path}: {error}") from None
		missing = [key for key in ("name", "access_token", "jobs_database") if not values.get(key)]
		if missing:
			raise ConfigurationError(f"Proxy agent: {path} lacks {', '.join(missing)}.")
		config = cls(values["name"], values["access_token"], values["jobs_database"])
		config.validate()
		return config

	def validate(self) -> None:
		# The stock agent's role rule: a name starting with "n" (not "nat") is a proxy.
		if not self.name.startswith("n") or self.name.startswith("nat"):
			raise ConfigurationError(
				f"Proxy agent: name '{self.name}' must be the Proxy Server's name in Press, "
				"starting with 'n' (e.g. n1.example.com)."
			)
		if not self.access_token.startswith("$pbkdf2-sha256$"):
			raise ConfigurationError(
				"Proxy agent: access_token must be a pbkdf2-sha256 hash of the agent password "
				"(python -m press_selfhost.routing.proxy_agent hash-password)."
			)


class ProxyAgent:
	"""A WSGI callable answering Press the way a stock proxy agent would."""

	def __init__(self, config: ProxyAgentConfig):
		config.validate()
		self.config = config
		self.store = JobStore(config.jobs_database)
		self._verified: set[bytes] = set()  # digests of passwords already checked, to skip pbkdf2

	def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
		path = environ.get("PATH_INFO") or "/"
		if path == "/agent" or path.startswith("/agent/"):
			path = path[len("/agent") :] or "/"
		method = environ.get("REQUEST_METHOD", "GET").upper()
		if not self._authenticated(environ.get("HTTP_AUTHORIZATION", "")):
			status, payload = 401, {"message": "Unauthenticated"}
		else:
			status, payload = self._route(method, path, environ)
		body = json.dumps(payload, default=str).encode()
		start_response(
			STATUS_TEXT.get(status, f"{status} ERROR"),
			[("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
		)
		return [body]

	def _authenticated(self, authorization: str) -> bool:
		scheme, _, credential = authorization.partition(" ")
		if scheme.lower() == "basic":
			try:
				credential = base64.b64decode(credential.strip(), validate=True).decode().partition(":")[2]
			except (binascii.Error, UnicodeDecodeError):
				return False
		elif scheme.lower() != "bearer":
			return False
		digest = hashlib.sha256(credential.strip().encode()).digest()
		if digest in self._verified:
			return True
		if verify_password(credential.strip(), self.config.access_token):
			self._verified.add(digest)
			return True
		return False

	def _route(self, method: str, path: str, environ: dict) -> tuple[int, object]:
		if path == "/ping" and method == "GET":
			return 200, {"message": "pong"}
		if path == "/version" and method == "GET":
			return 200, _version()
		if method == "GET" and (match := re.fullmatch(r"/jobs(?:/([^/]+))?", path)):
			return self._jobs(match.group(1))
		if method == "POST" and (match := re.fullmatch(r"/jobs/(\d+)/cancel", path)):
			# Every job here has already ended, so cancelling changes nothing, as on the stock agent.
			return self._jobs(match.group(1))
		if method == "GET" and (match := re.fullmatch(r"/agent-jobs(?:/([^/]+))?", path)):
			return self._agent_jobs(match.group(1))
		path_known = False
		for job_method, pattern, name, required, steps in _COMPILED_JOBS:
			if not pattern.match(path):
				continue
			path_known = True
			if job_method != method:
				continue
			body = _json_body(environ)
			missing = [key for key in required if not isinstance(body, dict) or key not in body]
			if missing:
				return 500, {"error": [f"KeyError: '{missing[0]}'"]}
			job_id = self.store.record_success(
				name,
				steps,
				method=method,
				path=path,
				request=body,
				agent_job_id=environ.get("HTTP_X_AGENT_JOB_ID"),
				data={"output": JOB_OUTPUT[name]} if name in JOB_OUTPUT else None,
			)
			return 200, {"job": job_id}
		if path_known:
			return 405, {"error": [f"method {method} not allowed on {path}"]}
		return 404, {"error": [f"no route for {method} {path} on this proxy agent"]}

	def _jobs(self, selector: str | None) -> tuple[int, object]:
		if selector is None:
			return 200, self.store.recent()
		if selector.isdigit():
			found = self.store.jobs([int(selector)])
			return (
				(200, found[0])
				if found
				else (500, {"error": [f"JobModel matching id {selector} does not exist"]})
			)
		try:
			ids = [int(part) for part in selector.split(",") if part]
		except ValueError:
			return 404, {"error": [f"'{selector}' is not a list of job ids"]}
		return 200, self.store.jobs(ids)

	def _agent_jobs(self, selector: str | None) -> tuple[int, object]:
		if selector is None:
			return 200, self.store.recent_agent_job_ids()
		if selector.isdigit():  # the stock agent's int route answers one job
			found = self.store.jobs_by_agent_job_id([selector])
			return (200, found[0]) if found else (500, {"error": [f"no job with agent_job_id {selector}"]})
		return 200, self.store.jobs_by_agent_job_id([name for name in selector.split(",") if name])


def _version() -> dict:
	"""The stock agent's `GET /version` keys (Press's Agent Versions report reads them)."""
	try:
		release = metadata.version("press_selfhost")
	except metadata.PackageNotFoundError:
		release = "unknown"
	return {
		"commit": f"press_selfhost {release}",
		"status": "",
		"upstream": "press_selfhost proxy agent (answers proxy jobs; Traefik routes)",
		"show": "",
		"python": platform.python_version(),
		"services": {"proxy-agent": "RUNNING"},
	}


def create_app_from_environment() -> ProxyAgent:
	"""The app for gunicorn: its config file is named by PROXY_AGENT_CONFIG."""
	path = os.environ.get("PROXY_AGENT_CONFIG")
	if not path:
		raise ConfigurationError("Proxy agent: set PROXY_AGENT_CONFIG to the path of its config.json.")
	return ProxyAgent(ProxyAgentConfig.from_file(path))


def _json_body(environ: dict) -> object:
	try:
		length = int(environ.get("CONTENT_LENGTH") or 0)
	except ValueError:
		length = 0
	raw = environ["wsgi.input"].read(length) if length else b""
	try:
		return json.loads(raw) if raw else {}
	except ValueError:
		return None
