"""compose/ checked without a container engine: Compose schema, interpolation, and the security policy.

Every policy is a function that lists problems; each is run on compose.yaml (no problem allowed)
and on a deliberately broken copy (the problem must be found), so a policy that stops checking
fails its own test.
"""

import copy
import importlib.resources
import ipaddress
import json
import re
from pathlib import Path

import jsonschema
import pytest

from tests.support.compose import (
	COMPOSE_DIR,
	ENV_EXAMPLE,
	InterpolationError,
	Interpolator,
	all_profiles,
	env_example,
	for_profiles,
	interpolate,
	load_init_secrets,
	load_raw,
	parse_env_file,
)

init_secrets = load_init_secrets()
SELFHOST_SETTINGS_JSON = (
	Path(__file__).resolve().parent.parent
	/ "press_selfhost/press_selfhost/doctype/selfhost_settings/selfhost_settings.json"
)

SEED_SECRETS = {
	"DATABASE_PASSWORD",
	"REDIS_PASSWORD",
	"MINIO_ACCESS_KEY",
	"MINIO_SECRET_KEY",
	"LAGO_API_KEY",
	"KEYCLOAK_ADMIN_PASSWORD",
	"AGENT_PASSWORD",
	"ENCRYPTION_KEY",
}
SEED_VOLUMES = {
	"mariadb_data",
	"redis_data",
	"minio_data",
	"traefik_certs",
	"press_sites",
	"press_logs",
	"keycloak_data",
	"postal_data",
}
LAGO_AND_REGISTRY_VOLUMES = {"lago_postgres_data", "lago_redis_data", "lago_storage_data", "registry_data"}
NETWORKS = {"frontend", "backend", "database", "storage"}

# Which networks each service joins, and why. A service missing here, or on a network not listed
# for it, fails the test: adding one is a decision to write down, not an accident.
SERVICE_NETWORKS = {
	# frontend: the public side; backend: f1/n1 aliases for Press; storage: public S3 downloads;
	# database: MariaDB's client for the benches' TCP route (published on loopback only).
	"traefik": {"frontend", "backend", "storage", "database"},
	"agent-ca": "none",
	"press-setup": {"backend", "database", "storage"},
	"press-web": {"frontend", "backend", "database", "storage"},
	"press-worker": {"backend", "database", "storage"},
	"press-scheduler": {"backend", "database", "storage"},
	"press-socketio": {"frontend", "database"},
	"minio-init": {"storage"},
	# agent-net owns the agent's network namespace (and the name `agent` on backend) and never
	# restarts with the agent's processes, so a restart of one of them cuts nobody off.
	"agent-net": {"backend"},
	"agent": "service:agent-net",
	"agent-worker": "service:agent-net",
	"agent-redis": "service:agent-net",
	"proxy-agent": {"backend"},
	# The host's network: see HOST_NETWORK below for why.
	"bench-gateway": "host",
	"mariadb": {"database"},
	"redis": {"database"},
	"redis-cache": {"database"},
	"minio": {"storage"},
	"registry": {"frontend"},
	"keycloak": {"frontend", "backend", "database"},
	"lago-db": {"database"},
	"lago-redis": {"database"},
	"lago-migrate": {"database"},
	"lago-api": {"frontend", "backend", "database"},
	"lago-worker": {"backend", "database"},
	"lago-clock": {"database"},
	"lago-front": {"frontend"},
	"lago-pdf": {"backend"},
	"postal-db": {"database"},
	"postal-init": {"database"},
	"postal-web": {"frontend", "backend", "database"},
	"postal-smtp": {"backend", "database"},
	"postal-worker": {"backend", "database"},
	# Profiles ha-redis and ha-db: data stores, so `database` only, like redis and mariadb.
	"redis-replica": {"database"},
	"redis-sentinel-1": {"database"},
	"redis-sentinel-2": {"database"},
	"redis-sentinel-3": {"database"},
	"mariadb-galera-1": {"database"},
	"mariadb-galera-2": {"database"},
	"mariadb-galera-3": {"database"},
}
# Services in the host's network namespace, each with the reason no bridge network will do. They
# publish nothing and listen only on BENCH_GATEWAY_ADDRESS (the host's address on `frontend`).
HOST_NETWORK = {
	# The stock agent publishes each bench on the host's 127.0.0.1 (agent/bench.py, Bench.start:
	# `-p 127.0.0.1:<web_port>:8000`), which only a process in the host's namespace can reach.
	"bench-gateway": "forwards <BENCH_GATEWAY_ADDRESS>:<bench port> to the benches on 127.0.0.1",
}
# What Traefik publishes, and on which host address: the public side, and MariaDB for the benches
# on the host's loopback only (bench-gateway forwards to it).
PUBLISHED = {"80": "0.0.0.0", "443": "0.0.0.0", "25": "0.0.0.0", "3306": "127.0.0.1"}
GATEWAY_ADDRESS = "${BENCH_GATEWAY_ADDRESS:?set BENCH_GATEWAY_ADDRESS in compose/.env}"
# One-shot services: run to completion at each start, so restart "no", no healthcheck, and the
# services that need them wait for `service_completed_successfully`.
ONE_SHOT = {"agent-ca", "press-setup", "minio-init", "lago-migrate", "postal-init"}
# Every process that runs Press's Agent code must trust the agents' private CA (bootstrap §9).
PRESS_PROCESSES = {"press-setup", "press-web", "press-worker", "press-scheduler", "press-socketio"}
SECRET_NAME = re.compile(
	r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|ENCRYPTION|SALT|AUTH|HTPASSWD|ACCESS_KEY"
)
USERINFO_PASSWORD = re.compile(r"://[^/:@\s]*:([^@/\s]+)@")
PINNED_TAG = re.compile(r"^(v?\d+(\.\d+)+([.-][\w.-]+)?|RELEASE\.[\dT-]+Z)$")


def compose_spec_schema() -> dict:
	"""The Compose specification's JSON schema, as vendored by check-jsonschema (a test dependency)."""
	vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
	return json.loads((vendor / "compose-spec.json").read_text())


def generated_environment(tmp_path: Path) -> dict[str, str]:
	"""`.env.example` after compose/init.sh's secret step, as an admin's first start has it."""
	env_path = tmp_path / ".env"
	init_secrets.fill_missing_secrets(env_path, ENV_EXAMPLE)
	# init.sh writes the Docker socket's group when .env names none (CI has no socket).
	return {**parse_env_file(env_path.read_text()), "DOCKER_GID": "999"}


@pytest.fixture(scope="module")
def raw() -> dict:
	return load_raw()


@pytest.fixture(scope="module")
def interpolated(raw, tmp_path_factory) -> dict:
	return interpolate(raw, Interpolator(generated_environment(tmp_path_factory.mktemp("env"))))


# --- schema and interpolation ------------------------------------------------------------------


PROFILE_SETS = [
	set(),
	{"billing"},
	{"sso"},
	{"mail"},
	{"ha-redis"},
	{"ha-db"},
	{"billing", "sso", "mail"},
	{"billing", "sso", "mail", "ha-redis", "ha-db"},
]


@pytest.mark.parametrize("profiles", PROFILE_SETS, ids=lambda profiles: "+".join(sorted(profiles)) or "core")
def test_every_profile_is_valid_compose(interpolated, profiles):
	document = for_profiles(interpolated, profiles)
	jsonschema.validate(document, compose_spec_schema())
	assert dependency_problems(document) == []


def test_the_profile_sets_cover_every_profile(raw):
	assert set().union(*PROFILE_SETS) == all_profiles(raw)


def test_the_schema_catches_a_broken_file(interpolated):
	broken = copy.deepcopy(interpolated)
	broken["services"]["redis"]["restart"] = ["always"]
	with pytest.raises(jsonschema.ValidationError):
		jsonschema.validate(broken, compose_spec_schema())


def test_dependency_check_catches_a_missing_profile_service(interpolated):
	# press-web must not need a service that a smaller stack leaves out.
	broken = copy.deepcopy(interpolated)
	broken["services"]["press-web"]["depends_on"]["keycloak"] = {"condition": "service_healthy"}
	assert dependency_problems(for_profiles(broken, set()))


def test_every_variable_is_named_in_env_example(raw):
	interpolator_after_secrets = Interpolator(
		{
			**env_example(),
			**dict.fromkeys([*init_secrets.SECRETS, *init_secrets.DERIVED_SECRETS], "x"),
			"DOCKER_GID": "999",
		}
	)
	interpolate(raw, interpolator_after_secrets)
	assert interpolator_after_secrets.unset == set()
	assert interpolator_after_secrets.referenced <= set(env_example())


def test_interpolation_after_init_has_no_unset_variable(raw, tmp_path):
	interpolator = Interpolator(generated_environment(tmp_path))
	document = interpolate(raw, interpolator)
	assert interpolator.unset == set()
	assert "${" not in json.dumps(document)


def test_env_example_alone_stops_at_a_generated_secret(raw):
	"""Without init.sh, Compose refuses to start, naming a secret and how to get it."""
	with pytest.raises(InterpolationError) as raised:
		interpolate(raw, Interpolator(env_example()))
	assert raised.value.variable in init_secrets.SECRETS
	assert "compose/init.sh" in raised.value.message


def test_env_example_names_every_secret_empty():
	example = env_example()
	secrets = set(init_secrets.SECRETS) | set(init_secrets.DERIVED_SECRETS)
	assert secrets >= SEED_SECRETS
	assert {name: example.get(name) for name in secrets} == dict.fromkeys(secrets, "")


def test_env_example_comments_every_setting():
	lines = ENV_EXAMPLE.read_text().splitlines()
	uncommented = []
	for index, line in enumerate(lines):
		if line and not line.startswith("#"):
			previous = [entry for entry in lines[:index] if entry.strip()]
			# A setting is explained by the comment above it or above its group of settings.
			block = next((entry for entry in reversed(previous) if not re.match(r"^[A-Z_]+=", entry)), "")
			if not block.startswith("#"):
				uncommented.append(line.split("=")[0])
	assert uncommented == []


def test_the_bench_gateway_address_is_the_gateway_of_the_frontend_subnet():
	example = env_example()
	subnet = ipaddress.ip_network(example["FRONTEND_SUBNET"])
	assert ipaddress.ip_address(example["BENCH_GATEWAY_ADDRESS"]) in subnet
	assert subnet.is_private


def test_default_domain_needs_no_dns_provider():
	example = env_example()
	assert example["DOMAIN"] == "localhost"
	assert example["TLS_CERT_RESOLVER"] == ""


# --- policies ------------------------------------------------------------------------------------


def dependency_problems(document: dict) -> list[str]:
	services = document["services"]
	problems = []
	for name, service in services.items():
		for target, spec in service.get("depends_on", {}).items():
			if target not in services and spec.get("required", True):
				problems.append(f"{name} depends on {target}, which is not started with these profiles")
		mode = service.get("network_mode", "")
		if mode.startswith("service:") and mode.removeprefix("service:") not in services:
			problems.append(f"{name} shares the network of a service that is not started")
	return problems


def ports_problems(document: dict) -> list[str]:
	problems = [
		f"{name} publishes ports"
		for name, service in document["services"].items()
		if name != "traefik" and service.get("ports")
	]
	published = {}
	for port in document["services"]["traefik"].get("ports", []):
		parts = str(port).split(":")
		address = parts[0] if len(parts) == 3 else "0.0.0.0"
		published[parts[-2]] = address
	if published != PUBLISHED:
		problems.append(f"traefik publishes {published}, not {PUBLISHED}")
	return problems


def host_network_problems(document: dict) -> list[str]:
	"""The host's network only where HOST_NETWORK says why; there, no ports, no wildcard listen, nothing writable."""
	problems = []
	for name, service in document["services"].items():
		if service.get("network_mode") != "host":
			continue
		if name not in HOST_NETWORK:
			problems.append(f"{name} uses the host's network without a reason in HOST_NETWORK")
			continue
		command = [str(argument) for argument in service.get("command") or []]
		listen = command[command.index("--listen") + 1] if "--listen" in command else None
		if listen != GATEWAY_ADDRESS:
			problems.append(f"{name} listens on {listen!r}, not on BENCH_GATEWAY_ADDRESS")
		if service.get("ports"):
			problems.append(f"{name} publishes ports")
		if not service.get("read_only"):
			problems.append(f"{name} has a writable root file system")
		for volume in service.get("volumes") or []:
			if not str(volume).endswith(":ro"):
				problems.append(f"{name} mounts {volume} writable")
			if "docker.sock" in str(volume):
				problems.append(f"{name} mounts the Docker socket")
	gateway = document.get("networks", {}).get("frontend", {}).get("ipam", {}).get("config", [{}])[0]
	if gateway.get("gateway") != GATEWAY_ADDRESS:
		problems.append("the frontend network's gateway is not BENCH_GATEWAY_ADDRESS")
	return problems


def network_problems(document: dict) -> list[str]:
	problems = []
	if set(document.get("networks", {})) != NETWORKS:
		problems.append(f"networks are {sorted(document.get('networks', {}))}, not {sorted(NETWORKS)}")
	for name, service in document["services"].items():
		if name not in SERVICE_NETWORKS:
			problems.append(f"{name} is not in SERVICE_NETWORKS")
			continue
		allowed = SERVICE_NETWORKS[name]
		if isinstance(allowed, str):
			if service.get("network_mode") != allowed or service.get("networks"):
				problems.append(f"{name} must use network_mode {allowed} and no networks")
		elif set(service.get("networks") or []) != allowed or service.get("network_mode"):
			problems.append(f"{name} joins {sorted(service.get('networks') or [])}, not {sorted(allowed)}")
	return problems


def health_and_restart_problems(document: dict) -> list[str]:
	problems = []
	for name, service in document["services"].items():
		health = service.get("healthcheck")
		if name in ONE_SHOT:
			if service.get("restart") != "no":
				problems.append(f"{name} is one-shot: restart must be 'no'")
			if health != {"disable": True}:
				problems.append(f"{name} is one-shot: its healthcheck must be disabled explicitly")
		else:
			if service.get("restart") not in ("unless-stopped", "always"):
				problems.append(f"{name} has no restart policy")
			if not health or health.get("disable") or not health.get("test"):
				problems.append(f"{name} has no healthcheck")
		for target, spec in (service.get("depends_on") or {}).items():
			wanted = "service_completed_successfully" if target in ONE_SHOT else "service_healthy"
			if not isinstance(spec, dict) or spec.get("condition") not in (wanted, "service_started"):
				problems.append(f"{name} depends on {target} without condition {wanted}")
	return problems


def resource_problems(document: dict) -> list[str]:
	return [
		f"{name} has no memory limit"
		for name, service in document["services"].items()
		if not service.get("deploy", {}).get("resources", {}).get("limits", {}).get("memory")
	]


def image_problems(document: dict) -> list[str]:
	problems = []
	for name, service in document["services"].items():
		image = service.get("image", "")
		reference = image.rsplit("/", 1)[-1]
		tag = reference.split(":", 1)[1] if ":" in reference else ""
		if "@sha256:" not in image and not PINNED_TAG.match(tag):
			problems.append(f"{name}: image {image!r} is not pinned to a version")
	return problems


def literal_secret_problems(document: dict) -> list[str]:
	"""On the raw (uninterpolated) file: every credential must come from a ${VARIABLE}."""
	problems = []
	for name, service in document["services"].items():
		environment = service.get("environment") or {}
		if isinstance(environment, list):
			environment = dict(entry.partition("=")[::2] for entry in environment)
		for key, value in environment.items():
			value = "" if value is None else str(value)
			if (
				SECRET_NAME.search(key)
				and not key.endswith(("_PATH", "_FILE"))
				and value
				and "${" not in value
			):
				problems.append(f"{name}: {key} is a literal")
			for password in USERINFO_PASSWORD.findall(value):
				if "${" not in password:
					problems.append(f"{name}: {key} has a literal password in its URL")
		command = service.get("command") or []
		if isinstance(command, str):
			command = command.split()
		for index, argument in enumerate(command):
			argument = str(argument)
			follows_flag = index > 0 and str(command[index - 1]) in (
				"--requirepass",
				"--masterauth",
				"--password",
				"-p",
			)
			has_credential = re.search(r"(Authorization|password|token)=", argument, re.IGNORECASE)
			if (follows_flag or has_credential) and "${" not in argument:
				problems.append(f"{name}: command argument {index} is a literal credential")
	return problems


def press_trust_problems(document: dict) -> list[str]:
	problems = []
	services = document["services"]
	for name in PRESS_PROCESSES:
		environment = services[name].get("environment") or {}
		mounts = [str(volume) for volume in services[name].get("volumes", [])]
		if environment.get("REQUESTS_CA_BUNDLE") != "/etc/press-agent-ca/bundle.pem":
			problems.append(f"{name} has no REQUESTS_CA_BUNDLE")
		if "agent_ca:/etc/press-agent-ca:ro" not in mounts:
			problems.append(f"{name} does not mount the agents' CA")
	aliases = services["traefik"]["networks"]["backend"].get("aliases", [])
	if sorted(aliases) != [
		"f1.${DOMAIN:?set DOMAIN in compose/.env}",
		"n1.${DOMAIN:?set DOMAIN in compose/.env}",
	]:
		problems.append(f"traefik's backend aliases are {aliases}, not the f1/n1 server names")
	if "--entrypoints.agents.address=:443" not in services["traefik"]["command"]:
		problems.append("traefik has no internal agents entrypoint on :443")
	return problems


def volume_problems(document: dict) -> list[str]:
	missing = (SEED_VOLUMES | LAGO_AND_REGISTRY_VOLUMES) - set(document.get("volumes", {}))
	return [f"volume {volume} is missing" for volume in sorted(missing)]


POLICIES = {
	"ports": ports_problems,
	"host network": host_network_problems,
	"networks": network_problems,
	"health and restart": health_and_restart_problems,
	"resources": resource_problems,
	"images": image_problems,
	"literal secrets": literal_secret_problems,
	"press trusts agents": press_trust_problems,
	"volumes": volume_problems,
}


# Image tags are checked as Compose will pull them (interpolated); everything else on the file
# as written, where a literal secret can still be told from a ${VARIABLE}.
INTERPOLATED_POLICIES = {"images"}


def _document_for(policy, raw, interpolated):
	return interpolated if policy in INTERPOLATED_POLICIES else raw


@pytest.mark.parametrize("policy", POLICIES)
def test_compose_follows_policy(raw, interpolated, policy):
	assert POLICIES[policy](_document_for(policy, raw, interpolated)) == []


def _set_env(document, service, key, value):
	document["services"][service]["environment"][key] = value


# (policy, what to break, how) — each must be caught.
BREAKAGES = [
	("ports", "mariadb publishes 3306", lambda d: d["services"]["mariadb"].update(ports=["3306:3306"])),
	("ports", "traefik publishes 8080", lambda d: d["services"]["traefik"]["ports"].append("8080:8080")),
	(
		"host network",
		"registry on the host's network",
		lambda d: d["services"]["registry"].update(network_mode="host"),
	),
	(
		"host network",
		"gateway listening everywhere",
		lambda d: d["services"]["bench-gateway"]["command"].__setitem__(4, "0.0.0.0"),
	),
	(
		"host network",
		"gateway writable",
		lambda d: d["services"]["bench-gateway"]["volumes"].append(
			"/var/run/docker.sock:/var/run/docker.sock"
		),
	),
	(
		"host network",
		"frontend subnet moved away from the gateway",
		lambda d: d["networks"]["frontend"]["ipam"]["config"][0].update(gateway="172.17.0.1"),
	),
	(
		"ports",
		"MariaDB published to the world",
		lambda d: d["services"]["traefik"]["ports"].__setitem__(3, "3306:3306"),
	),
	("ports", "postal-smtp publishes 25", lambda d: d["services"]["postal-smtp"].update(ports=["25:2525"])),
	("networks", "mariadb on backend", lambda d: d["services"]["mariadb"]["networks"].append("backend")),
	(
		"networks",
		"redis on frontend",
		lambda d: d["services"]["redis"].update(networks=["database", "frontend"]),
	),
	("networks", "minio on backend", lambda d: d["services"]["minio"]["networks"].append("backend")),
	(
		"networks",
		"a service not in the table",
		lambda d: d["services"].update(extra=d["services"]["registry"]),
	),
	("networks", "an extra network", lambda d: d["networks"].update(public={})),
	("health and restart", "redis without healthcheck", lambda d: d["services"]["redis"].pop("healthcheck")),
	("health and restart", "minio without restart", lambda d: d["services"]["minio"].pop("restart")),
	(
		"health and restart",
		"one-shot restarting",
		lambda d: d["services"]["minio-init"].update(restart="always"),
	),
	(
		"health and restart",
		"depends_on without condition",
		lambda d: d["services"]["press-web"]["depends_on"].update(redis={}),
	),
	("resources", "no memory limit", lambda d: d["services"]["registry"].pop("deploy")),
	("images", "untagged image", lambda d: d["services"]["redis"].update(image="redis")),
	("images", "latest", lambda d: d["services"]["minio"].update(image="minio/minio:latest")),
	("images", "major only", lambda d: d["services"]["mariadb"].update(image="mariadb:10")),
	(
		"literal secrets",
		"literal root password",
		lambda d: _set_env(d, "mariadb", "MARIADB_ROOT_PASSWORD", "hunter2"),
	),
	(
		"literal secrets",
		"password in a URL",
		lambda d: _set_env(d, "lago-api", "DATABASE_URL", "postgresql://lago:hunter2@lago-db:5432/lago"),
	),
	(
		"literal secrets",
		"literal requirepass",
		lambda d: d["services"]["lago-redis"].update(command=["redis-server", "--requirepass", "hunter2"]),
	),
	(
		"literal secrets",
		"literal provider token",
		lambda d: d["services"]["traefik"]["command"].append(
			"--providers.http.headers.Authorization=Bearer x"
		),
	),
	(
		"literal secrets",
		"literal masterauth",
		lambda d: d["services"]["redis-replica"]["command"].__setitem__(7, "hunter2"),
	),
	(
		"press trusts agents",
		"worker without CA bundle",
		lambda d: d["services"]["press-worker"]["environment"].pop("REQUESTS_CA_BUNDLE"),
	),
	(
		"press trusts agents",
		"no n1 alias",
		lambda d: d["services"]["traefik"]["networks"]["backend"]["aliases"].pop(),
	),
	("volumes", "no press_sites", lambda d: d["volumes"].pop("press_sites")),
	("volumes", "no registry volume", lambda d: d["volumes"].pop("registry_data")),
]


@pytest.mark.parametrize(("policy", "breakage", "apply"), BREAKAGES, ids=[entry[1] for entry in BREAKAGES])
def test_policy_catches(raw, interpolated, policy, breakage, apply):
	broken = copy.deepcopy(_document_for(policy, raw, interpolated))
	apply(broken)
	assert POLICIES[policy](broken), f"{policy} did not notice: {breakage}"


def test_every_policy_has_a_breakage():
	assert {entry[0] for entry in BREAKAGES} == set(POLICIES)


def test_realm_file_takes_its_secret_from_the_environment():
	realm = json.loads((COMPOSE_DIR / "keycloak" / "cloud-realm.json").read_text())
	assert [client["secret"] for client in realm["clients"]] == ["${KEYCLOAK_CLIENT_SECRET}"]


def test_agent_routes_strip_the_agent_prefix():
	dynamic = (COMPOSE_DIR / "traefik" / "dynamic" / "platform.yml").read_text()
	for server, service in (("f1", "agent"), ("n1", "proxy-agent")):
		router = re.search(rf"agent-{server}:\n((?:      .*\n)+)", dynamic).group(1)
		assert f"Host(`{server}.{{{{ $domain }}}}`)" in router
		assert "entryPoints: [agents]" in router
		assert "middlewares: [strip-agent-prefix]" in router
		assert f"service: {service}\n" in router
	assert 'prefixes: ["/agent"]' in dynamic


# --- Dockerfiles -----------------------------------------------------------------------------------

DOCKERFILES = sorted((COMPOSE_DIR / "images").glob("*/Dockerfile"))


def dockerfile_problems(text: str) -> list[str]:
	problems = []
	stages = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
	if not stages:
		problems.append("no FROM")
	for base in stages:
		tag = base.rsplit("/", 1)[-1].partition(":")[2]
		if not re.match(r"^v?\d+(\.\d+)+", tag):
			problems.append(f"base {base} is not pinned to a version")
	final_stage = text.rsplit("\nFROM ", 1)[-1]
	users = re.findall(r"^USER\s+(\S+)", final_stage, re.MULTILINE)
	if not users or users[-1] in ("root", "0", "0:0"):
		problems.append("the final stage does not run as a non-root USER")
	return problems


def test_there_are_three_dockerfiles():
	assert [path.parent.name for path in DOCKERFILES] == ["agent", "bench", "press"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_dockerfile_pins_its_base_and_drops_root(dockerfile):
	assert dockerfile_problems(dockerfile.read_text()) == []


@pytest.mark.parametrize(
	"breakage",
	[
		lambda text: re.sub(r"^FROM python:\S+", "FROM python:latest", text, flags=re.MULTILINE),
		lambda text: re.sub(r"^FROM python:\S+", "FROM python", text, flags=re.MULTILINE),
		lambda text: re.sub(r"^USER .*$", "", text, flags=re.MULTILINE),
		lambda text: text + "\nUSER root\n",
	],
	ids=["latest", "untagged", "no USER", "back to root"],
)
def test_dockerfile_check_catches(breakage):
	for dockerfile in DOCKERFILES:
		assert dockerfile_problems(breakage(dockerfile.read_text()))


def test_the_press_worker_reads_the_benches_backups_read_only(raw):
	"""The backup shipper runs in press-worker and reads each bench's backups at backup_benches_directory."""
	settings = json.loads(SELFHOST_SETTINGS_JSON.read_text())
	(directory,) = [f["default"] for f in settings["fields"] if f["fieldname"] == "backup_benches_directory"]
	assert f"/home/frappe/benches:{directory}:ro" in raw["services"]["press-worker"]["volumes"]
