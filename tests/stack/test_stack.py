"""The running stack (dev/stack up), from outside: services healthy, Press over https through
Traefik with its static files, the http→https redirect, and Traefik's routing poll of Press."""

import re
import time

import pytest
import requests

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

# One-shot services: they run to completion and exit 0 at every start.
ONE_SHOT = {"agent-ca", "press-setup", "minio-init"}
ROUTING_CONFIG_PATH = "/api/method/press.api.selfhost_traefik.config"


@pytest.fixture(scope="module")
def operator_settings(stack):
	"""The operator's step 2 of README "First start" for routing, through Press's REST API as
	Administrator: Traefik's token and Press's address as Traefik reaches it."""
	session = requests.Session()
	session.headers["Host"] = f"cloud.{stack.domain}"
	base = f"https://127.0.0.1:{stack.https_port}"
	login = session.post(
		f"{base}/api/method/login",
		data={"usr": "Administrator", "pwd": stack.env["ADMIN_PASSWORD"]},
		timeout=30,
		verify=False,  # Traefik's self-signed default certificate
	)
	assert login.status_code == 200
	update = session.put(
		f"{base}/api/resource/Selfhost Settings/Selfhost Settings",
		json={
			"traefik_config_token": stack.env["TRAEFIK_PROVIDER_TOKEN"],
			"press_upstream_url": "http://press-web:8000",
		},
		timeout=30,
		verify=False,
	)
	assert update.status_code == 200, update.text[:500]
	return session


def test_every_service_is_healthy_and_every_one_shot_succeeded(stack):
	services = stack.services()
	assert services, "docker compose ps lists no container"
	problems = []
	for container in services:
		name, state, health = container["Service"], container["State"], container.get("Health", "")
		if name in ONE_SHOT:
			if state != "exited" or container.get("ExitCode") != 0:
				problems.append(f"{name}: {state}, exit code {container.get('ExitCode')}")
		elif state != "running" or health != "healthy":
			problems.append(f"{name}: {state} {health or '(no healthcheck)'}")
	assert problems == []
	assert {"traefik", "press-web", "agent", "mariadb", "redis", "redis-cache"} <= {
		c["Service"] for c in services
	}


def test_press_login_page_and_its_assets_over_https(stack):
	login = stack.get("cloud", "/login")
	assert login.status_code == 200
	assert "text/html" in login.headers["Content-Type"]
	assets = sorted(set(re.findall(r'(?:href|src)="(/assets/[^"?]+)', login.text)))
	assert assets, "the login page links no /assets file"
	for path in assets[:5]:
		response = stack.get("cloud", path)
		assert response.status_code == 200, path
		assert len(response.content) > 0, path


def test_http_redirects_to_https_on_port_443(stack):
	response = stack.get("cloud", "/login", scheme="http")
	assert response.status_code in (301, 302, 307, 308)
	# The public port, not websecure's container port 8443.
	assert response.headers["Location"].startswith(f"https://cloud.{stack.domain}/login")


def test_press_serves_traefik_its_routes_only_with_the_token(stack, operator_settings):
	refused = stack.get("cloud", ROUTING_CONFIG_PATH)
	assert refused.status_code == 401
	served = stack.get(
		"cloud", ROUTING_CONFIG_PATH, headers={"X-Traefik-Token": stack.env["TRAEFIK_PROVIDER_TOKEN"]}
	)
	assert served.status_code == 200
	assert "http" in served.json()


def test_traefik_polls_press_without_errors(stack, operator_settings):
	# pollInterval is 5 s; Traefik logs only the failed polls (retrying with back-off).
	time.sleep(12)
	since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 10))
	log = stack.compose("logs", "--no-log-prefix", "--since", since, "traefik")
	assert [line for line in log.splitlines() if "Provider error" in line and "http" in line] == []
