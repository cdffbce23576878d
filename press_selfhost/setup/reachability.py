"""What bootstrap must reach before Press may see a record ready, and why it could not.

Each server's agent is pinged where Press calls it (`https://<server name>/agent`, TLS verified
through REQUESTS_CA_BUNDLE as Press's requests are), MariaDB is logged in to as root as Press's
"New Site" jobs do, and the bench image is looked up in its registry as the agent's `docker pull`
would find it. Framework-free: the shell passes the settings in and the plan takes the answer.
"""

import requests

from press_selfhost.routing.checks import agent_ping_check, proxy_agent_ping_check
from press_selfhost.setup.bootstrap_records import (
	APP_SERVER_HOSTNAME,
	BENCH_IMAGE_KEY,
	PROXY_SERVER_HOSTNAME,
	BootstrapSettings,
)
from press_selfhost.setup.checks import mariadb_root_check
from press_selfhost.setup.doctor import run_checks
from press_selfhost.setup.health import Check, CheckFailed

MANIFEST_TYPES = ", ".join(
	(
		"application/vnd.oci.image.index.v1+json",
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.docker.distribution.manifest.v2+json",
	)
)


def unreached(settings: BootstrapSettings, *, timeout: float = 5.0) -> dict[str, str]:
	"""By record key, why each thing bootstrap needs could not be reached just now; {} when all were."""
	checks: dict[str, Check] = {
		"Proxy Server": proxy_agent_ping_check(
			f"https://{settings.server_name(PROXY_SERVER_HOSTNAME)}/agent",
			settings.proxy_agent_password,
			timeout=timeout,
		),
		"Database Server": mariadb_root_check(
			settings.database_server_private_ip, 3306, settings.mariadb_root_password, timeout=timeout
		),
		"Server": agent_ping_check(
			f"https://{settings.server_name(APP_SERVER_HOSTNAME)}/agent",
			settings.app_agent_password,
			timeout=timeout,
		),
	}
	if settings.docker_registry_url:
		checks[BENCH_IMAGE_KEY] = bench_image_check(
			settings.docker_registry_url,
			settings.bench_image,
			settings.docker_registry_username,
			settings.docker_registry_password,
			timeout=timeout,
		)
	secrets = (
		settings.proxy_agent_password,
		settings.app_agent_password,
		settings.mariadb_root_password,
		settings.docker_registry_password,
	)
	results = run_checks(checks.values(), secrets=secrets)
	return {key: result.detail for key, result in zip(checks, results, strict=True) if not result.ok}


def image_reference(image: str) -> tuple[str, str]:
	"""`registry.example.com/bench:v1` → (`bench`, `v1`): the repository inside the registry and the tag."""
	name, _, digest = image.partition("@")
	first, _, rest = name.partition("/")
	if rest and ("." in first or ":" in first or first == "localhost"):
		name = rest  # the registry's host is the settings' docker_registry_url
	repository, _, tag = name.rpartition(":") if ":" in name.rpartition("/")[2] else (name, "", "latest")
	return repository, digest or tag


def bench_image_check(
	registry_url: str, image: str, username: str, password: str, *, timeout: float = 5.0
) -> Check:
	"""The bench image is in the registry the agent pulls from (Docker Registry HTTP API v2)."""
	base = registry_url if "://" in registry_url else f"https://{registry_url}"
	repository, reference = image_reference(image)
	url = f"{base.rstrip('/')}/v2/{repository}/manifests/{reference}"

	def probe() -> str:
		try:
			response = requests.head(
				url,
				headers={"Accept": MANIFEST_TYPES},
				auth=(username, password) if username else None,
				timeout=timeout,
			)
		except requests.RequestException as error:
			raise CheckFailed(
				f"the registry at {base} is unreachable ({type(error).__name__})",
				"Start the registry and check docker_registry_url in Selfhost Settings.",
			) from None
		if response.status_code == 401:
			raise CheckFailed(
				f"the registry at {base} refused the login",
				"Set docker_registry_username and docker_registry_password to the registry's login.",
			)
		if response.status_code == 404:
			raise CheckFailed(
				f"{image} is not in the registry at {base}",
				"Build and push the bench image, or set bench_image to one the registry has.",
			)
		if response.status_code != 200:
			raise CheckFailed(
				f"the registry at {base} answered {response.status_code} for {image}",
				"Check docker_registry_url: it must be the registry's own address.",
			)
		return f"{image} is in the registry at {base}"

	return Check("Bench image", probe, timeout=timeout * 3)
