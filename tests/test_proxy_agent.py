"""The proxy agent: passlib-compatible passwords, and conformance with what Press sends and expects.

The conformance test runs the service as its own process, sends every proxy job with the paths,
headers and bodies of Press's `Agent` class (press/agent.py), restarts the process half-way, then
polls `GET jobs/<ids>` as `Agent.get_jobs_status` does and parses each answer as the stock agent's.
"""

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from passlib.hash import pbkdf2_sha256

from press_selfhost.errors import ConfigurationError
from press_selfhost.routing.agent import Job, JobStatus
from press_selfhost.routing.proxy_agent.app import PROXY_JOBS, ProxyAgent, ProxyAgentConfig
from press_selfhost.routing.proxy_agent.password import hash_password, verify_password
from tests.support.processes import free_port, port_accepts, stop_process, wait_until

PASSWORD = "Xq3vR8tLpZ2mK9wN4bY7cF1dH6jS0aEe"  # 32 characters, as Server.validate_agent_password makes
PROXYSQL_PASSWORD = "Db-pass-7Hq2Lw9Zx4"
IP = "10.0.0.5"
SITE = "acme.example.com"
FAKE_PRIVATE_KEY = (
	"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
)

# (Agent Job name in Press, method, path, body): every request press/agent.py sends a proxy server,
# as Press 8542b9c builds them, plus those Press 010bc70 added (auto scale, domains on upstreams).
PRESS_COMMITS = ("8542b9c", "010bc70")
PRESS_PROXY_JOBS = [
	("Add Upstream to Proxy", "POST", "proxy/upstreams", {"name": IP}),
	("Add Site to Upstream", "POST", f"proxy/upstreams/{IP}/sites", {"name": SITE}),
	("Add Domain to Upstream", "POST", f"proxy/upstreams/{IP}/domains", {"domain": "erp.acme.com"}),
	(
		"Update Site Status",
		"POST",
		f"proxy/upstreams/{IP}/sites/{SITE}/status",
		{"status": "suspended", "extra_domains": ["erp.acme.com"], "skip_reload": False},
	),
	(
		"Add Host to Proxy",
		"POST",
		"proxy/hosts",
		{
			"name": "erp.acme.com",
			"target": SITE,
			"certificate": {"privkey.pem": FAKE_PRIVATE_KEY, "fullchain.pem": "FULL", "chain.pem": "CHAIN"},
		},
	),
	(
		"Add Wildcard Hosts to Proxy",
		"POST",
		"proxy/wildcards",
		[{"domain": "example.com", "certificate": {"privkey.pem": FAKE_PRIVATE_KEY}, "code_server": False}],
	),
	(
		"Setup Redirects on Hosts",
		"POST",
		"proxy/hosts/redirects",
		{"domains": ["erp.acme.com"], "target": SITE},
	),
	("Remove Redirects on Hosts", "DELETE", "proxy/hosts/redirects", {"domains": ["erp.acme.com"]}),
	("Remove Host from Proxy", "DELETE", "proxy/hosts/erp.acme.com", {}),
	(
		"Rename Site on Upstream",
		"POST",
		f"proxy/upstreams/{IP}/sites/{SITE}/rename",
		{"new_name": "acme2.example.com", "domains": ["erp.acme.com"]},
	),
	("Rename Upstream", "POST", "proxy/upstreams/203.0.113.5/rename", {"name": IP}),
	("Remove Site from Upstream", "DELETE", f"proxy/upstreams/{IP}/sites/{SITE}", {"extra_domains": []}),
	("Reload NGINX Job", "POST", "proxy/reload", None),
	(
		"Add User to Proxy",
		"POST",
		"ssh/users",
		{
			"name": "bench-0001",
			"principal": "Self-hosted",
			"ssh": {"ip": IP, "port": 22000},
			"certificate": {"ssh-ed25519-cert.pub": "CERT"},
		},
	),
	("Remove User from Proxy", "DELETE", "ssh/users/bench-0001", None),
	(
		"Add Auto Scale Site to Upstream",
		"POST",
		f"proxy/upstreams/{IP}/auto-scale-site",
		{"secondary_upstreams": [{"10.0.0.6": 1}]},
	),
	("Remove Auto Scale Site from Upstream", "POST", f"proxy/upstreams/{IP}/remove-auto-scale-site", None),
	(
		"Add User to ProxySQL",
		"POST",
		"proxysql/users",
		{
			"username": "u_acme",
			"password": PROXYSQL_PASSWORD,
			"database": "_acme",
			"max_connections": 16,
			"backend": {"ip": "10.0.0.7", "id": 1},
		},
	),
	("Add Backend to ProxySQL", "POST", "proxysql/backends", {"backend": {"ip": "10.0.0.7", "id": 1}}),
	("Remove User from ProxySQL", "DELETE", "proxysql/users/u_acme", None),
]
# Press sends these under other Agent Job names to paths above (a Code Server is a site file).
PRESS_ALIASES = {
	"Add Code Server to Upstream": "Add Site to Upstream",
	"Remove Code Server from Upstream": "Remove Site from Upstream",
	# a stale duplicate in the fixture: Press 010bc70 sends "Remove Auto Scale Site from Upstream"
	"Remove Auto Scale Site to Upstream": "Remove Auto Scale Site from Upstream",
}
# Press's press/fixtures/agent_job_type.json at 010bc70, kept in shared/contracts/ beside the checkout.
PRESS_JOB_TYPES = next(
	(
		folder / "shared" / "contracts" / "press-agent-job-types.json"
		for folder in Path(__file__).resolve().parents
		if (folder / "shared" / "contracts" / "press-agent-job-types.json").exists()
	),
	Path("shared/contracts/press-agent-job-types.json"),
)
# Jobs with nothing to do here say why in their output.
EXPLAINED_JOBS = {
	"Add Auto Scale Site to Upstream": "Recorded only",
	"Remove Auto Scale Site from Upstream": "Recorded only",
	"Add User to ProxySQL": "No ProxySQL on this platform",
	"Remove User from ProxySQL": "No ProxySQL on this platform",
	"Add Backend to ProxySQL": "No ProxySQL on this platform",
}

# Press's Agent Job Type fixtures: the steps Press expects for each job.
PRESS_STEPS = {
	"Add Upstream to Proxy": ["Add Upstream Directory", "Reload NGINX"],
	"Add Site to Upstream": ["Add Site File to Upstream Directory", "Reload NGINX"],
	"Add Domain to Upstream": ["Add Site File to Upstream Directory", "Reload NGINX"],
	"Update Site Status": ["Update Site File", "Reload NGINX"],
	"Add Host to Proxy": ["Add Host to Proxy", "Reload NGINX"],
	"Add Wildcard Hosts to Proxy": ["Add Wildcard Hosts to Proxy", "Reload NGINX"],
	"Setup Redirects on Hosts": ["Remove Redirect on Host", "Setup Redirect on Host", "Reload NGINX"],
	"Remove Redirects on Hosts": ["Remove Redirect on Host"],
	"Remove Host from Proxy": ["Remove Host from Proxy"],
	"Rename Site on Upstream": [
		"Rename Site File in Upstream Directory",
		"Rename Host Directory",
		"Rename Site in Host Directory",
		"Reload NGINX",
	],
	"Rename Upstream": ["Rename Upstream Directory", "Reload NGINX"],
	"Remove Site from Upstream": ["Remove Site File from Upstream Directory"],
	"Reload NGINX Job": ["Reload NGINX"],
	"Add User to Proxy": ["Add User to Proxy", "Add Certificate to User", "Add Principal to User"],
	"Remove User from Proxy": ["Remove User from Proxy", "Remove Principal from User"],
	"Add Auto Scale Site to Upstream": ["Add Auto Scale Site to Upstream", "Reload NGINX"],
	"Remove Auto Scale Site from Upstream": ["Remove Auto Scale Site from Upstream", "Reload NGINX"],
	"Add User to ProxySQL": ["Add User to ProxySQL"],
	"Remove User from ProxySQL": ["Remove User from ProxySQL"],
	"Add Backend to ProxySQL": ["Add Backend to ProxySQL"],
}
JOB_KEYS = {
	"id",
	"name",
	"status",
	"agent_job_id",
	"data",
	"enqueue",
	"start",
	"end",
	"duration",
	"commands",
	"steps",
}
STEP_KEYS = {"id", "name", "job", "status", "data", "start", "end", "duration", "commands"}


# -- passwords ------------------------------------------------------------------------------------
def test_a_hash_made_by_passlib_verifies_here_and_ours_verifies_with_passlib():
	made_by_passlib = pbkdf2_sha256.hash(PASSWORD)
	assert verify_password(PASSWORD, made_by_passlib)
	assert not verify_password(PASSWORD + "x", made_by_passlib)
	ours = hash_password(PASSWORD)
	assert pbkdf2_sha256.verify(PASSWORD, ours)
	assert not pbkdf2_sha256.verify("other", ours)


def test_a_known_passlib_vector():
	hashed = pbkdf2_sha256.using(rounds=1000, salt=b"0123456789abcdef").hash("password")
	assert hashed == hash_password("password", rounds=1000, salt=b"0123456789abcdef")
	assert verify_password("password", hashed)


@pytest.mark.parametrize(
	"malformed",
	[
		"",
		"password",
		"$pbkdf2-sha256$",
		"$pbkdf2-sha256$x$abc$def",
		"$pbkdf2-sha256$0$abc$def",
		"$pbkdf2-sha256$1000$!!$??",
		"$pbkdf2$1000$abc$def",
	],
)
def test_malformed_hashes_refuse(malformed):
	assert not verify_password("password", malformed)


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=40), st.binary(min_size=1, max_size=24))
def test_round_trip_with_passlib_for_any_password_and_salt(password, salt):
	hashed = hash_password(password, rounds=10, salt=salt)
	assert verify_password(password, hashed)
	assert pbkdf2_sha256.verify(password, hashed)


# -- configuration --------------------------------------------------------------------------------
def write_config(directory: Path, **overrides) -> Path:
	values = {
		"name": "n1.example.com",
		"access_token": hash_password(PASSWORD),
		"jobs_database": str(directory / "jobs.sqlite3"),
	}
	path = directory / "config.json"
	path.write_text(json.dumps(values | overrides))
	return path


@pytest.mark.parametrize(
	("overrides", "message"),
	[
		({"name": "f1.example.com"}, "starting with 'n'"),
		({"name": "nat1.example.com"}, "starting with 'n'"),
		({"access_token": PASSWORD}, "pbkdf2-sha256 hash"),
		({"jobs_database": ""}, "lacks jobs_database"),
	],
)
def test_bad_configuration_is_refused_with_what_to_fix(tmp_path, overrides, message):
	with pytest.raises(ConfigurationError, match=message) as refused:
		ProxyAgentConfig.from_file(write_config(tmp_path, **overrides))
	assert PASSWORD not in str(refused.value)


def test_an_unreadable_config_file_is_a_configuration_error(tmp_path):
	with pytest.raises(ConfigurationError, match="cannot read"):
		ProxyAgentConfig.from_file(tmp_path / "missing.json")


# -- the WSGI app called directly ---------------------------------------------------------------------
def call(app, method, path, *, authorization=f"bearer {PASSWORD}", body=None, agent_job_id=None):
	raw = json.dumps(body).encode() if body is not None else b""
	environ = {
		"REQUEST_METHOD": method,
		"PATH_INFO": path,
		"CONTENT_LENGTH": str(len(raw)),
		"wsgi.input": io.BytesIO(raw),
		"HTTP_AUTHORIZATION": authorization,
	}
	if agent_job_id:
		environ["HTTP_X_AGENT_JOB_ID"] = agent_job_id
	answer = {}

	def start_response(status, headers):
		answer["status"] = int(status.split()[0])
		answer["headers"] = dict(headers)

	payload = b"".join(app(environ, start_response))
	assert answer["headers"]["Content-Type"] == "application/json"
	return answer["status"], json.loads(payload)


@pytest.fixture
def app(tmp_path):
	application = ProxyAgent(ProxyAgentConfig.from_file(write_config(tmp_path)))
	yield application
	application.store.close()


@pytest.mark.parametrize(
	"authorization",
	[
		"",
		f"Bearer {PASSWORD}x",
		"Bearer ",
		f"Token {PASSWORD}",
		"Basic !!!",
		"Basic " + base64.b64encode(b"agent:wrong").decode(),
	],
)
def test_wrong_or_missing_credentials_are_refused_as_the_stock_agent_does(app, authorization):
	assert call(app, "GET", "/agent/ping", authorization=authorization) == (
		401,
		{"message": "Unauthenticated"},
	)


def test_bearer_any_case_and_basic_auth_are_accepted(app):
	basic = "Basic " + base64.b64encode(f"anyone:{PASSWORD}".encode()).decode()
	for authorization in (f"bearer {PASSWORD}", f"Bearer {PASSWORD}", basic):
		assert call(app, "GET", "/agent/ping", authorization=authorization) == (200, {"message": "pong"})
	assert call(app, "GET", "/ping") == (200, {"message": "pong"})  # prefix already stripped


def test_unknown_paths_methods_and_missing_fields(app):
	assert call(app, "POST", "/agent/benches/bench-1/sites", body={})[0] == 404
	assert call(app, "GET", "/agent/proxy/hosts")[0] == 405
	assert call(app, "POST", "/agent/proxy/upstreams", body={}) == (500, {"error": ["KeyError: 'name'"]})
	assert call(app, "GET", "/agent/jobs/999")[0] == 500


def test_the_same_press_job_sent_twice_is_one_job(app):
	first = call(
		app, "POST", f"/agent/proxy/upstreams/{IP}/sites", body={"name": SITE}, agent_job_id="abc123"
	)
	again = call(
		app, "POST", f"/agent/proxy/upstreams/{IP}/sites", body={"name": SITE}, agent_job_id="abc123"
	)
	assert first == again == (200, {"job": first[1]["job"]})
	other = call(
		app, "POST", f"/agent/proxy/upstreams/{IP}/sites", body={"name": SITE}, agent_job_id="def456"
	)
	assert other[1]["job"] != first[1]["job"]


def test_every_route_in_the_table_is_exercised_by_the_conformance_list():
	assert {name for _, _, name, _, _ in PROXY_JOBS} == {name for name, _, _, _ in PRESS_PROXY_JOBS}
	assert {name: list(steps) for _, _, name, _, steps in PROXY_JOBS} == PRESS_STEPS


def test_job_names_and_steps_match_presss_fixture_for_every_proxy_job_type():
	"""Press's agent_job_type.json (010bc70): every job type sent to a proxy is answered, with its steps."""
	if not PRESS_JOB_TYPES.exists():
		pytest.skip(f"Press's Agent Job Type fixture is not at {PRESS_JOB_TYPES}")
	fixture = json.loads(PRESS_JOB_TYPES.read_text())
	proxy_types = {
		job["name"]: [step["step_name"] for step in job["steps"]]
		for job in fixture
		if (job["request_path"] or "").lstrip("/").startswith(("proxy/", "proxysql/", "ssh/"))
		or job["name"] == "Reload NGINX Job"
	}
	answered = {name: list(steps) for _, _, name, _, steps in PROXY_JOBS}
	for name, steps in proxy_types.items():
		ours = answered.get(PRESS_ALIASES.get(name, name))
		assert ours is not None, f"{name} has no route on the proxy agent"
		if name not in PRESS_ALIASES:
			assert ours == steps, name
	assert set(answered) <= set(proxy_types)


def test_jobs_without_meaning_here_succeed_and_say_why(app):
	for job_type, method, path, body in PRESS_PROXY_JOBS:
		status, answer = call(app, method, f"/agent/{path}", body=body)
		assert status == 200, (job_type, answer)
		_, polled = call(app, "GET", f"/agent/jobs/{answer['job']}")
		assert polled["status"] == "Success"
		if job_type in EXPLAINED_JOBS:
			assert polled["data"]["output"].startswith(EXPLAINED_JOBS[job_type]), job_type
		else:
			assert polled["data"] == {}, job_type


def test_version_answers_the_stock_agents_keys(app):
	status, version = call(app, "GET", "/agent/version")
	assert status == 200
	assert set(version) == {"commit", "status", "upstream", "show", "python", "services"}
	assert version["python"] == ".".join(map(str, sys.version_info[:3]))
	assert call(app, "GET", "/agent/version", authorization="")[0] == 401


# -- conformance against a running process ---------------------------------------------------------------
class ProxyAgentProcess:
	def __init__(self, config: Path, log: Path):
		self.config, self.log = config, log
		self.port = free_port()
		self.process = None

	def start(self) -> "ProxyAgentProcess":
		with self.log.open("a") as log:
			self.process = subprocess.Popen(
				[
					sys.executable,
					"-m",
					"press_selfhost.routing.proxy_agent",
					"serve",
					"--config",
					str(self.config),
					"--port",
					str(self.port),
				],
				stdout=log,
				stderr=subprocess.STDOUT,
			)
		wait_until(
			lambda: port_accepts(self.port),
			what="proxy agent",
			process=self.process,
			log=self.log,
			timeout=15,
		)
		return self

	def stop(self) -> None:
		stop_process(self.process)

	def press_request(self, method, path, data=None, agent_job_id=None):
		"""What press.agent.Agent._make_req sends."""
		headers = {"Authorization": f"bearer {PASSWORD}", "X-Agent-Job-Id": agent_job_id}
		url = f"http://127.0.0.1:{self.port}/agent/{path}"
		return requests.request(method, url, headers=headers, json=data, timeout=(10, 30))


def assert_parses_as_stock_job(raw: dict, press_job: str, job_type: str) -> Job:
	assert set(raw) == JOB_KEYS
	assert raw["name"] == job_type
	assert set(raw) >= {"id", "status", "data", "steps"}  # what Press's update_job reads
	job = Job.from_agent(raw)
	assert job.status is JobStatus.SUCCESS
	if job_type in EXPLAINED_JOBS:
		assert job.data["output"].startswith(EXPLAINED_JOBS[job_type])
	else:
		assert job.data == {}
	assert [step.name for step in job.steps] == PRESS_STEPS[raw["name"]]
	for step in raw["steps"]:
		assert set(step) == STEP_KEYS and step["status"] == "Success" and step["job"] == raw["id"]
	assert raw["agent_job_id"] == press_job
	for stamp in ("enqueue", "start", "end"):
		assert raw[stamp][:4].isdigit()  # str(datetime), as json.dumps(default=str) gives
	return job


def test_press_proxy_jobs_all_succeed_across_a_restart(tmp_path):
	config = write_config(tmp_path)
	agent = ProxyAgentProcess(config, tmp_path / "proxy-agent.log").start()
	job_ids: dict[str, int] = {}
	job_types: dict[str, str] = {}
	try:
		assert agent.press_request("GET", "ping").json() == {"message": "pong"}
		assert agent.press_request("GET", "version").json()["services"] == {"proxy-agent": "RUNNING"}
		half = len(PRESS_PROXY_JOBS) // 2
		for index, (job_type, method, path, data) in enumerate(PRESS_PROXY_JOBS):
			job_types[f"press-{index:04d}"] = job_type
			if index == half:
				agent.stop()
				agent = ProxyAgentProcess(config, tmp_path / "proxy-agent.log").start()
			press_job_name = f"press-{index:04d}"
			response = agent.press_request(method, path, data, agent_job_id=press_job_name)
			assert response.status_code == 200, response.text
			job_ids[press_job_name] = response.json()["job"]
			assert isinstance(job_ids[press_job_name], int)
		agent.stop()
		agent = ProxyAgentProcess(config, tmp_path / "proxy-agent.log").start()

		# Agent.get_jobs_status: one id gives a dict, several a list.
		names, ids = list(job_ids), list(job_ids.values())
		assert len(set(ids)) == len(ids)
		polled = agent.press_request("GET", "jobs/" + ",".join(map(str, ids))).json()
		assert [job["id"] for job in polled] == ids
		for press_job_name, raw in zip(names, polled, strict=True):
			assert_parses_as_stock_job(raw, press_job_name, job_types[press_job_name])
		single = agent.press_request("GET", f"jobs/{ids[0]}").json()
		assert_parses_as_stock_job(single, names[0], job_types[names[0]])

		# Agent.get_jobs_id: a job whose answer Press lost is found by its Agent Job name.
		found = agent.press_request("GET", f"agent-jobs/{names[3]},{names[-1]}").json()
		assert sorted(job["id"] for job in found) == sorted([ids[3], ids[-1]])
		assert agent.press_request("GET", "agent-jobs").json()[0] == names[-1]
		assert agent.press_request("GET", "jobs").json()[0]["id"] == ids[-1]
		assert agent.press_request("POST", f"jobs/{ids[0]}/cancel").json()["status"] == "Success"
		refused = requests.get(f"http://127.0.0.1:{agent.port}/agent/jobs/{ids[0]}", timeout=5)
		assert (refused.status_code, refused.json()) == (401, {"message": "Unauthenticated"})
	finally:
		agent.stop()
	database = Path(json.loads(config.read_text())["jobs_database"])
	assert b"PRIVATE KEY" not in database.read_bytes()
	assert PROXYSQL_PASSWORD.encode() not in database.read_bytes()


def test_no_path_press_can_send_a_proxy_server_answers_404(tmp_path):
	"""Every request of press/agent.py (PRESS_COMMITS) to a proxy, over HTTP: a 404 is a failed Agent Job."""
	agent = ProxyAgentProcess(write_config(tmp_path), tmp_path / "proxy-agent.log").start()
	try:
		answers = {
			(method, path): agent.press_request(method, path, data).status_code
			for _, method, path, data in PRESS_PROXY_JOBS
		}
		answers[("GET", "version")] = agent.press_request("GET", "version").status_code
	finally:
		agent.stop()
	assert {request: status for request, status in answers.items() if status != 200} == {}
