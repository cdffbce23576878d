"""The high-availability profiles, checked statically: Redis Sentinel (ha-redis) and MariaDB Galera (ha-db).

The general policies of tests/test_compose.py (networks, healthchecks, pins, secrets) cover these
services too; this file checks what makes each profile a working cluster rather than a list of
containers, and that the operator's Scale-out page names Frappe's real configuration keys.
"""

import copy
import re

import pytest

from tests.support.compose import COMPOSE_DIR, active_services, load_raw

SENTINELS = ["redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3"]
GALERA_NODES = ["mariadb-galera-1", "mariadb-galera-2", "mariadb-galera-3"]
SCALE_OUT_PAGE = COMPOSE_DIR.parent / "docs" / "operator" / "scale-out.md"
FRAPPE_SENTINEL_KEYS = [
	f"redis_{kind}_{key}"
	for kind in ("cache", "queue")
	for key in ("sentinel_enabled", "sentinels", "master_service", "sentinel_password", "master_password")
]


@pytest.fixture(scope="module")
def services() -> dict:
	return load_raw()["services"]


def sentinel_config(service: dict) -> list[str]:
	"""The lines the sentinel's start script writes into sentinel.conf."""
	script = service["command"][2]
	return re.findall(r"""['"]([^'"]+)['"]""", script.split(">")[0])[1:]


def sentinel_problems(services: dict) -> list[str]:
	problems = []
	sentinels = {name: service for name, service in services.items() if name.startswith("redis-sentinel")}
	if sorted(sentinels) != SENTINELS:
		problems.append(f"sentinels are {sorted(sentinels)}, not three")
	for name, service in sentinels.items():
		lines = sentinel_config(service)
		if "sentinel monitor press redis 6379 2" not in lines:
			problems.append(f"{name} does not watch `redis` as `press` with a quorum of 2")
		if (
			"sentinel auth-pass press $$REDIS_PASSWORD" not in lines
			or "requirepass $$REDIS_PASSWORD" not in lines
		):
			problems.append(f"{name} does not authenticate with REDIS_PASSWORD both ways")
		if service.get("profiles") != ["ha-redis"]:
			problems.append(f"{name} is not in profile ha-redis")
	replica = services.get("redis-replica", {})
	command = [str(argument) for argument in replica.get("command", [])]
	if command[command.index("--replicaof") + 1 : command.index("--replicaof") + 3] != ["redis", "6379"]:
		problems.append("redis-replica does not replicate `redis`")
	primary = [str(argument) for argument in services["redis"]["command"]]
	for name, arguments in (("redis", primary), ("redis-replica", command)):
		# Either may be primary after a failover: both need the password to follow the other.
		if "--masterauth" not in arguments or "--replica-announce-ip" not in arguments:
			problems.append(f"{name} cannot rejoin as a replica (masterauth, announce name)")
	return problems


def galera_problems(services: dict) -> list[str]:
	problems = []
	nodes = {name: service for name, service in services.items() if name.startswith("mariadb-galera")}
	if sorted(nodes) != GALERA_NODES:
		problems.append(f"Galera nodes are {sorted(nodes)}, not three")
	config = (COMPOSE_DIR / "mariadb" / "galera.cnf").read_text()
	address = re.search(r"^wsrep_cluster_address = gcomm://(\S+)$", config, re.MULTILINE)
	if not address or address.group(1).split(",") != GALERA_NODES:
		problems.append("wsrep_cluster_address does not list the three nodes")
	for setting in (
		"wsrep_on = ON",
		"binlog_format = ROW",
		"innodb_autoinc_lock_mode = 2",
		"character-set-server = utf8mb4",
		"collation-server = utf8mb4_unicode_ci",
		"skip-character-set-client-handshake",
		"skip-innodb-read-only-compressed",
	):
		if not re.search(rf"^{re.escape(setting)}$", config, re.MULTILINE):
			problems.append(f"galera.cnf lacks `{setting}`")
	bootstrappers = []
	for name, service in nodes.items():
		script = service["command"][2]
		if "--wsrep-new-cluster" in script:
			bootstrappers.append(name)
		if "./mariadb/galera.cnf:/etc/mysql/conf.d/galera.cnf:ro" not in service.get("volumes", []):
			problems.append(f"{name} does not read galera.cnf")
		if f"{name}_data".replace("-", "_") not in " ".join(service.get("volumes", [])):
			problems.append(f"{name} has no volume of its own")
		if "wsrep_local_state" not in str(service.get("healthcheck", {}).get("test")):
			problems.append(f"{name}'s healthcheck does not wait for the node to be Synced")
	if bootstrappers != ["mariadb-galera-1"]:
		problems.append(f"nodes that may bootstrap a new cluster: {bootstrappers}, not only the first")
	joiners = {name: nodes[name].get("depends_on", {}) for name in GALERA_NODES[1:] if name in nodes}
	if joiners != {
		"mariadb-galera-2": {"mariadb-galera-1": {"condition": "service_healthy"}},
		"mariadb-galera-3": {"mariadb-galera-2": {"condition": "service_healthy"}},
	}:
		problems.append("the joiners do not wait, one after the other, for a Synced node")
	return problems


def test_the_sentinel_profile_is_a_working_topology(services):
	assert sentinel_problems(services) == []


def test_the_galera_profile_is_a_working_cluster(services):
	assert galera_problems(services) == []


@pytest.mark.parametrize(
	("check", "breakage"),
	[
		(sentinel_problems, lambda s: s.pop("redis-sentinel-3")),
		(sentinel_problems, lambda s: s["redis-sentinel-1"].update(command=["sh", "-c", "'port 26379' > x"])),
		(sentinel_problems, lambda s: s["redis"].update(command=["redis-server"])),
		(galera_problems, lambda s: s["mariadb-galera-2"].update(command=s["mariadb-galera-1"]["command"])),
		(galera_problems, lambda s: s["mariadb-galera-3"].pop("depends_on")),
		(
			galera_problems,
			lambda s: s["mariadb-galera-2"].update(volumes=["mariadb_galera_1_data:/var/lib/mysql"]),
		),
	],
	ids=[
		"two sentinels",
		"sentinel watching nothing",
		"primary without masterauth",
		"two bootstrappers",
		"joiner not waiting",
		"shared data volume",
	],
)
def test_the_checks_catch(services, check, breakage):
	broken = copy.deepcopy(services)
	breakage(broken)
	assert check(broken)


def test_the_profiles_are_optional_and_add_only_their_services(services):
	core = set(active_services({"services": services}, set()))
	assert core.isdisjoint(SENTINELS + GALERA_NODES + ["redis-replica"])
	assert set(active_services({"services": services}, {"ha-redis"})) - core == {*SENTINELS, "redis-replica"}
	assert set(active_services({"services": services}, {"ha-db"})) - core == set(GALERA_NODES)


def test_the_scale_out_page_names_frappes_sentinel_keys():
	"""The keys Frappe reads (frappe/utils/redis_wrapper.py setup_cache, redis_queue.py get_connection)."""
	section = SCALE_OUT_PAGE.read_text()
	missing = [key for key in FRAPPE_SENTINEL_KEYS if f"`{key}`" not in section and f'"{key}"' not in section]
	assert missing == []
	assert "ha-redis" in section and "ha-db" in section
