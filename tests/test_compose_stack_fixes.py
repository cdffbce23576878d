"""Issue 15's blockers, each held statically (CI has no container engine): what a real build and
start of the stack showed, and what reading upstream found. tests/stack checks them on a running stack."""

import re
from pathlib import Path

import pytest

from tests.support.compose import COMPOSE_DIR, env_example, load_raw

REPOSITORY = COMPOSE_DIR.parent
IMAGES = COMPOSE_DIR / "images"
DOCKERFILES = {name: IMAGES / name / "Dockerfile" for name in ("press", "agent", "bench")}
BUILD_TOOLS = re.compile(r"\b(build-essential|libmariadb-dev|pkg-config|npm)\b")


@pytest.fixture(scope="module")
def services() -> dict:
	return load_raw()["services"]


def stages(dockerfile: Path) -> list[str]:
	"""The Dockerfile's stages, each from its FROM line to the next."""
	return re.split(r"(?m)^(?=FROM )", dockerfile.read_text())[1:]


def run_instructions(text: str) -> str:
	"""RUN instructions with their continuation lines, comments dropped (as Docker reads them)."""
	lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
	return "\n".join(lines)


@pytest.mark.parametrize("name", DOCKERFILES)
def test_no_dockerfile_frontend_is_pulled(name):
	# `# syntax=…` makes BuildKit pull a frontend image: an offline or mirrored build fails on it.
	assert not re.search(r"(?m)^#\s*syntax\s*=", DOCKERFILES[name].read_text())


@pytest.mark.parametrize("name", ["press", "bench"])
def test_apps_txt_is_rewritten_whole(name):
	# bench init leaves apps.txt without a final newline: `echo app >>` made `frappepress`.
	text = run_instructions(DOCKERFILES[name].read_text())
	assert "ls -1 apps > sites/apps.txt" in text
	assert ">> sites/apps.txt" not in text


@pytest.mark.parametrize("name", ["press", "bench"])
def test_the_bench_venv_keeps_pkg_resources(name):
	assert '"setuptools<70"' in run_instructions(DOCKERFILES[name].read_text())


def test_cryptography_stays_within_what_frappe_and_press_need():
	pyproject = (REPOSITORY / "pyproject.toml").read_text()
	assert '"cryptography>=41,<44"' in pyproject


@pytest.mark.parametrize("name", ["press", "agent"])
def test_build_tools_stay_in_the_build_stage(name):
	all_stages = stages(DOCKERFILES[name])
	runtime = all_stages[-1]
	assert len(all_stages) >= 2
	assert BUILD_TOOLS.search(run_instructions(all_stages[-2]))
	assert not BUILD_TOOLS.search(run_instructions(runtime)), f"{name}'s runtime stage installs build tools"
	assert "COPY --from=build" in runtime


@pytest.mark.parametrize("name", DOCKERFILES)
def test_the_build_ca_is_a_secret_never_in_the_image(name):
	text = DOCKERFILES[name].read_text()
	assert "--mount=type=secret,id=build_ca" in text
	runtime = stages(DOCKERFILES[name])[-1]
	# A CA path left in the runtime's environment would break every TLS client of the image.
	assert not re.search(r"(?m)^ENV .*(/run/secrets|PIP_CERT|SSL_CERT_FILE)", runtime)
	assert "ca-certificates.crt" not in runtime


def test_builds_take_repositories_and_the_ca_from_the_environment(services):
	press = services["press-setup"]["build"]
	agent = services["agent"]["build"]
	for build, names in ((press, ("FRAPPE", "PRESS")), (agent, ("AGENT",))):
		for name in names:
			assert build["args"][f"{name}_REPOSITORY"].startswith(
				f"${{{name}_REPOSITORY:-https://github.com/frappe/"
			)
			assert build["args"][f"{name}_REF"].startswith(f"${{{name}_REF:-")
		assert build["secrets"] == ["build_ca"]
	assert load_raw()["secrets"]["build_ca"]["file"].startswith("${BUILD_CA_BUNDLE:-")
	for name in ("FRAPPE_REPOSITORY", "PRESS_REPOSITORY", "AGENT_REPOSITORY", "BUILD_CA_BUNDLE"):
		assert name in env_example()


def test_each_image_of_this_checkout_is_built_by_one_service(services):
	# Compose builds an image once per service that declares its build, in parallel: 8 builds of the
	# Press image (a quarter of an hour each on 2 cores) for one result.
	builders: dict[str, list[str]] = {}
	for name, service in services.items():
		if "build" in service:
			builders.setdefault(service["image"], []).append(name)
	assert {image.split(":")[0]: names for image, names in builders.items()} == {
		"press-selfhost/press": ["press-setup"],
		"press-selfhost/agent": ["agent"],
	}


def test_press_setup_resumes_a_failed_first_start():
	script = (IMAGES / "press/press-setup.sh").read_text()
	marker = re.search(r'complete="(sites/\$\{PRESS_SITE\}/[^"]+)"', script)
	assert marker
	# The site counts as made only after new-site and its settings succeeded; a half-made one is dropped.
	assert script.index("bench new-site") < script.index('touch "$complete"')
	assert script.index("bench drop-site") < script.index("bench new-site")
	assert '[ ! -f "$complete" ]' in script


def test_press_web_serves_assets_and_files(services):
	command = services["press-web"]["command"]
	assert "frappe.app:application_with_statics()" in command
	assert "frappe.app:application" not in command


def test_the_agent_makes_its_job_database_and_takes_no_password_on_a_command_line():
	entrypoint = (IMAGES / "agent/agent-entrypoint.sh").read_text()
	web = entrypoint[entrypoint.index("web)") : entrypoint.index("worker)")]
	assert "agent setup database" in web
	assert "agent setup config" in web
	assert "--password" not in entrypoint
	# Only the web part writes config.json: the worker waits for it.
	worker = entrypoint[entrypoint.index("worker)") :]
	assert "agent setup" not in worker


def test_the_agent_workers_read_the_backup_queue():
	entrypoint = (IMAGES / "agent/agent-entrypoint.sh").read_text()
	queues = re.search(r"AGENT_QUEUES:-([^}]+)\}", entrypoint).group(1).split()
	assert {"high", "default", "low", "backup"} <= set(queues)


def test_the_agent_healthcheck_sends_its_token(services):
	test = " ".join(services["agent"]["healthcheck"]["test"])
	assert "/ping" in test and "Authorization" in test and "AGENT_PASSWORD" in test
	assert "$AGENT_PASSWORD" not in test.replace("os.environ['AGENT_PASSWORD']", "")


def test_a_service_that_never_restarts_owns_the_agent_namespace(services):
	owner = services["agent-net"]
	assert owner["entrypoint"] == ["sleep", "infinity"]
	assert "agent" in owner["networks"]["backend"]["aliases"]
	for name in ("agent", "agent-worker", "agent-redis"):
		assert services[name]["network_mode"] == "service:agent-net"
		assert services[name]["depends_on"]["agent-net"]["restart"] is True


def test_press_cache_and_queue_are_separate_redis_servers(services):
	def policy(name):
		command = [str(argument) for argument in services[name]["command"]]
		return command[command.index("--maxmemory-policy") + 1]

	assert policy("redis") == "noeviction"
	assert policy("redis-cache") == "allkeys-lru"
	environment = services["press-web"]["environment"]
	assert "@redis-cache:6379/" in environment["REDIS_CACHE"]
	assert "@redis:6379/" in environment["REDIS_QUEUE"]


def test_http_redirects_to_the_public_https_port(services):
	command = services["traefik"]["command"]
	assert "--entrypoints.web.http.redirections.entrypoint.to=:443" in command


def test_postal_init_can_write_its_volume_and_mail_is_not_a_default_profile(services):
	init = services["postal-init"]
	assert init["user"] == "0:0"
	assert "chown -R 999:999 /config" in " ".join(init["command"])
	assert "mail" not in env_example()["COMPOSE_PROFILES"].split(",")


def test_docker_gid_is_detected_from_the_socket(services):
	assert env_example()["DOCKER_GID"] == ""
	assert "stat -c %g /var/run/docker.sock" in (COMPOSE_DIR / "init.sh").read_text()
	assert services["agent"]["group_add"] == [
		"${DOCKER_GID:?compose/init.sh detects it (stat -c %g /var/run/docker.sock)}"
	]


def test_lago_redis_urls_carry_the_password():
	lago = load_raw()["x-lago-environment"]
	for key in ("REDIS_URL", "LAGO_REDIS_CACHE_URL"):
		assert lago[key].startswith("redis://:${LAGO_REDIS_PASSWORD")


def test_every_service_rotates_its_logs(services):
	for name, service in services.items():
		logging = service.get("logging") or {}
		assert logging.get("options", {}).get("max-size"), f"{name} keeps its logs for ever"
