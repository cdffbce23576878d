"""compose's proxy-agent service start script, run for real: config.json from the environment, then the app.

Only what Docker provides is replaced: the bench's Python by this one, the state volume by a
temporary directory, and gunicorn's `exec` by loading the very factory it names.
"""

import importlib
import json
import os
import re
import subprocess
import sys

from press_selfhost.routing.proxy_agent.password import verify_password
from tests.support.compose import Interpolator, load_raw
from tests.test_proxy_agent import call

PASSWORD = "agent-password-for-the-compose-test"
BENCH_PYTHON = "/home/frappe/frappe-bench/env/bin/python"


def start_script() -> tuple[str, dict]:
	"""The service's shell script and environment as Compose hands them over (`$$` is `$`)."""
	service = load_raw()["services"]["proxy-agent"]
	environment = {"AGENT_PASSWORD": PASSWORD, "DOMAIN": "localhost"}
	interpolator = Interpolator(environment)
	script = interpolator.interpolate(service["command"][2])
	return script, {
		key: interpolator.interpolate(str(value)) for key, value in service["environment"].items()
	}


def test_the_start_script_writes_a_config_the_app_factory_accepts(tmp_path):
	script, environment = start_script()
	command = load_raw()["services"]["proxy-agent"]["command"]
	assert command[:2] == ["sh", "-c"]
	target = re.search(r"gunicorn .*'([\w.]+):(\w+)\(\)'$", script)
	assert target, "the script ends by exec-ing gunicorn on an app factory"
	module, factory = target.groups()
	# Run everything before gunicorn, with this Python and a temporary volume.
	before_gunicorn = script[: script.rindex("exec ")].replace(BENCH_PYTHON, sys.executable)
	environment = {
		key: value.replace("/home/frappe/proxy-agent", str(tmp_path)) for key, value in environment.items()
	}
	subprocess.run(["sh", "-c", before_gunicorn], env=environment, check=True, timeout=60)

	config = json.loads((tmp_path / "config.json").read_text())
	assert config["name"] == "n1.localhost"
	assert config["jobs_database"] == str(tmp_path / "jobs.sqlite3")
	assert verify_password(PASSWORD, config["access_token"])
	assert PASSWORD not in (tmp_path / "config.json").read_text()

	app = _factory_with(environment, module, factory)
	assert call(app, "GET", "/agent/ping", authorization=f"bearer {PASSWORD}") == (200, {"message": "pong"})
	assert call(app, "GET", "/agent/ping", authorization="bearer wrong")[0] == 401


def test_a_failing_hash_step_stops_the_start(tmp_path):
	"""`set -e`: without a hash the service stops instead of starting with an empty token."""
	script, environment = start_script()
	before_gunicorn = script[: script.rindex("exec ")].replace(BENCH_PYTHON, "/bin/false")
	environment = {
		key: value.replace("/home/frappe/proxy-agent", str(tmp_path)) for key, value in environment.items()
	}
	result = subprocess.run(["sh", "-c", before_gunicorn], env=environment, capture_output=True, timeout=60)
	assert result.returncode != 0
	assert not (tmp_path / "config.json").exists()


def _factory_with(environment: dict, module: str, factory: str):
	previous = os.environ.get("PROXY_AGENT_CONFIG")
	os.environ["PROXY_AGENT_CONFIG"] = environment["PROXY_AGENT_CONFIG"]
	try:
		return getattr(importlib.import_module(module), factory)()
	finally:
		if previous is None:
			os.environ.pop("PROXY_AGENT_CONFIG")
		else:
			os.environ["PROXY_AGENT_CONFIG"] = previous
