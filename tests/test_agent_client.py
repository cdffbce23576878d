"""The typed Agent client against the Agent stand-in over a real socket: calls, retries, errors."""

import time

import pytest
import requests

from press_selfhost.errors import (
	AgentJobFailedError,
	ConfigurationError,
	ServiceRejectedError,
	ServiceUnavailableError,
)
from press_selfhost.routing.agent import AgentClient, AgentSettings, JobStatus, redact
from tests.standins.agent import AgentStandIn
from tests.support.processes import free_port

PASSWORD = "agent-password-0123456789abcdef"
MARIADB_ROOT_PASSWORD = "mariadb-root-secret"


@pytest.fixture(scope="module")
def agent_server():
	with AgentStandIn(PASSWORD) as stand_in:
		yield stand_in


@pytest.fixture
def agent(agent_server):
	agent_server.reset()
	agent_server.add_bench("bench-1", "acme.example.com")
	agent_server.add_bench("bench-2")
	return agent_server


def client_for(agent, **overrides) -> AgentClient:
	options = {"retries": 3, "backoff_seconds": 0.01, "connect_timeout": 1.0, "read_timeout": 1.0} | overrides
	return AgentClient(AgentSettings(url=agent.url, password=PASSWORD, **options))


def wait(client, job_id):
	return client.wait_for_job(job_id, timeout=5, poll_interval=0.02)


def test_ping_and_bearer_authentication(agent):
	assert client_for(agent).ping() is True
	assert agent.requests[-1].headers["Authorization"] == f"Bearer {PASSWORD}"


def test_missing_url_or_password_is_a_configuration_error():
	with pytest.raises(ConfigurationError, match="agent_password"):
		AgentClient(AgentSettings(url="http://agent", password=""))


def test_the_password_never_shows_in_the_settings_repr():
	assert PASSWORD not in repr(AgentSettings(url="http://agent", password=PASSWORD))


def test_new_site_sends_the_stock_body_and_job_id_and_runs_to_success(agent):
	client = client_for(agent)
	job_id = client.new_site(
		"bench-1",
		"beta.example.com",
		apps=["frappe", "erpnext"],
		config={"host_name": "https://beta.example.com"},
		mariadb_root_password=MARIADB_ROOT_PASSWORD,
		admin_password="admin-secret",
		agent_job_id="press-job-0001",
	)
	sent = agent.requests_to("POST", "/benches/bench-1/sites")[0]
	assert sent.headers["X-Agent-Job-Id"] == "press-job-0001"
	assert sent.json() == {
		"name": "beta.example.com",
		"apps": ["frappe", "erpnext"],
		"config": {"host_name": "https://beta.example.com"},
		"mariadb_root_password": MARIADB_ROOT_PASSWORD,
		"admin_password": "admin-secret",
	}
	first = client.job(job_id)
	assert first.status is JobStatus.PENDING and first.steps == ()
	job = wait(client, job_id)
	assert job.status is JobStatus.SUCCESS
	assert job.name == "New Site" and job.agent_job_id == "press-job-0001"
	assert [step.status for step in job.steps] == [JobStatus.SUCCESS] * 6


def test_a_job_is_seen_running_with_its_steps_appearing(agent):
	agent.step_seconds = 0.2
	client = client_for(agent)
	job_id = client.move_site_to_bench("bench-1", "acme.example.com", target="bench-2")  # two steps
	seen = set()
	deadline = time.monotonic() + 5
	while time.monotonic() < deadline:
		job = client.job(job_id)
		seen.add((job.status, len(job.steps)))
		if job.ended:
			break
		time.sleep(0.02)
	assert (JobStatus.PENDING, 0) in seen
	assert (JobStatus.RUNNING, 1) in seen and (JobStatus.RUNNING, 2) in seen
	assert (JobStatus.SUCCESS, 2) in seen


@pytest.mark.parametrize(
	("call", "method", "path", "body", "job_name"),
	[
		(
			lambda c: c.install_app("bench-1", "acme.example.com", "erpnext"),
			"POST",
			"/benches/bench-1/sites/acme.example.com/apps",
			{"name": "erpnext"},
			"Install App on Site",
		),
		(
			lambda c: c.uninstall_app("bench-1", "acme.example.com", "erpnext"),
			"DELETE",
			"/benches/bench-1/sites/acme.example.com/apps/erpnext",
			{},
			"Uninstall App from Site",
		),
		(
			lambda c: c.migrate_site("bench-1", "acme.example.com", skip_failing_patches=True),
			"POST",
			"/benches/bench-1/sites/acme.example.com/migrate",
			{"skip_failing_patches": True, "activate": True},
			"Migrate Site",
		),
		(
			lambda c: c.update_site("bench-1", "acme.example.com", target="bench-2"),
			"POST",
			"/benches/bench-1/sites/acme.example.com/update/migrate",
			{
				"target": "bench-2",
				"activate": True,
				"skip_failing_patches": False,
				"skip_backups": False,
				"before_migrate_scripts": None,
				"skip_search_index": True,
			},
			"Update Site Migrate",
		),
		(
			lambda c: c.update_site("bench-1", "acme.example.com", target="bench-2", migrate=False),
			"POST",
			"/benches/bench-1/sites/acme.example.com/update/pull",
			None,
			"Update Site Pull",
		),
		(
			lambda c: c.move_site_to_bench("bench-1", "acme.example.com", target="bench-2"),
			"POST",
			"/benches/bench-1/sites/acme.example.com/move_to_bench",
			{"target": "bench-2", "activate": True, "deactivate": True, "skip_failing_patches": False},
			"Move Site to Bench",
		),
		(
			lambda c: c.archive_site(
				"bench-1", "acme.example.com", mariadb_root_password=MARIADB_ROOT_PASSWORD
			),
			"POST",
			"/benches/bench-1/sites/acme.example.com/archive",
			{"mariadb_root_password": MARIADB_ROOT_PASSWORD, "force": False},
			"Archive Site",
		),
		(
			lambda c: c.update_site_config(
				"bench-1", "acme.example.com", {"maintenance_mode": 1}, remove=["x"]
			),
			"POST",
			"/benches/bench-1/sites/acme.example.com/config",
			{"config": {"maintenance_mode": 1}, "remove": ["x"]},
			"Update Site Configuration",
		),
		(
			lambda c: c.restore_site(
				"bench-1",
				"acme.example.com",
				apps=["frappe"],
				mariadb_root_password=MARIADB_ROOT_PASSWORD,
				admin_password="admin-secret",
				database="https://minio/backups/db.sql.gz?X-Amz-Signature=abc",
			),
			"POST",
			"/benches/bench-1/sites/acme.example.com/restore",
			{
				"apps": ["frappe"],
				"mariadb_root_password": MARIADB_ROOT_PASSWORD,
				"admin_password": "admin-secret",
				"database": "https://minio/backups/db.sql.gz?X-Amz-Signature=abc",
				"public": None,
				"private": None,
				"skip_failing_patches": False,
			},
			"Restore Site",
		),
	],
	ids=[
		"install-app",
		"uninstall-app",
		"migrate",
		"update-migrate",
		"update-pull",
		"move",
		"archive",
		"config",
		"restore",
	],
)
def test_every_job_method_uses_the_stock_path_and_body(agent, call, method, path, body, job_name):
	client = client_for(agent)
	job = wait(client, call(client))
	sent = agent.requests_to(method, path)
	assert len(sent) == 1
	assert sent[0].headers["X-Agent-Job-Id"]
	if body is not None:
		assert sent[0].json() == body
	assert (job.name, job.status) == (job_name, JobStatus.SUCCESS)


@pytest.mark.parametrize("with_files", [True, False])
def test_backup_with_and_without_files_returns_the_backup_files(agent, with_files):
	client = client_for(agent)
	job = wait(client, client.backup_site("bench-1", "acme.example.com", with_files=with_files))
	assert agent.requests_to("POST", "/benches/bench-1/sites/acme.example.com/backup")[0].json() == {
		"with_files": with_files
	}
	expected = {"database", "site_config"} | ({"public", "private"} if with_files else set())
	assert set(job.data["backups"]) == expected
	assert job.data["backups"]["database"]["file"].endswith("database.sql.gz")


def test_jobs_polls_many_in_one_request_and_one_as_a_list(agent):
	client = client_for(agent)
	ids = [client.migrate_site("bench-1", "acme.example.com") for _ in range(3)]
	jobs = client.jobs(ids)
	assert [job.id for job in jobs] == ids
	assert agent.requests_to("GET", "/jobs/" + ",".join(map(str, ids)))
	assert [job.id for job in client.jobs(ids[:1])] == ids[:1]
	assert client.jobs([]) == []


def test_cancel_fails_a_running_job(agent):
	agent.step_seconds = 5
	client = client_for(agent)
	job_id = client.migrate_site("bench-1", "acme.example.com")
	assert client.cancel_job(job_id).status is JobStatus.FAILURE
	with pytest.raises(AgentJobFailedError, match="cancelled"):
		wait(client, job_id)


def test_a_failed_job_raises_with_its_step_command_and_output_but_no_password(agent):
	agent.fail_job(
		"New Site",
		"New Site",
		command=f"bench new-site beta.example.com --mariadb-root-password {MARIADB_ROOT_PASSWORD} --admin-password=adm1n",
		output=f"Traceback...\npymysql.err.OperationalError: (1045, 'Access denied') {PASSWORD}",
	)
	client = client_for(agent)
	job_id = client.new_site(
		"bench-1",
		"beta.example.com",
		apps=["frappe"],
		config={},
		mariadb_root_password=MARIADB_ROOT_PASSWORD,
		admin_password="adm1n",
	)
	with pytest.raises(AgentJobFailedError) as failure:
		wait(client, job_id)
	error = failure.value
	assert (error.job_id, error.job_name, error.step) == (job_id, "New Site", "New Site")
	assert (
		error.command
		== "bench new-site beta.example.com --mariadb-root-password ******** --admin-password=********"
	)
	assert "Access denied" in error.output and "Access denied" in str(error)
	for secret in (PASSWORD, MARIADB_ROOT_PASSWORD, "adm1n"):
		assert secret not in str(error) and secret not in error.output and secret not in (error.command or "")
	assert not error.retryable


def test_wait_for_job_gives_up_after_its_timeout(agent):
	agent.step_seconds = 10
	client = client_for(agent)
	job_id = client.migrate_site("bench-1", "acme.example.com")
	with pytest.raises(ServiceUnavailableError, match="still Running"):
		client.wait_for_job(job_id, timeout=0.2, poll_interval=0.05)


def test_wrong_password_is_a_clear_401_without_the_password(agent):
	client = AgentClient(AgentSettings(url=agent.url, password="wrong-password-xyz", backoff_seconds=0.01))
	with pytest.raises(ServiceRejectedError) as refused:
		client.ping()
	assert refused.value.status_code == 401 and not refused.value.retryable
	assert "agent setup authentication" in str(refused.value)
	assert "wrong-password-xyz" not in str(refused.value)
	assert len(agent.requests) == 1  # a refused password is not retried


def test_unknown_bench_or_site_is_a_clear_404(agent):
	client = client_for(agent)
	with pytest.raises(ServiceRejectedError, match="no such bench, site or job") as missing:
		client.install_app("bench-1", "nobody.example.com", "erpnext")
	assert missing.value.status_code == 404
	assert len(agent.requests) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_with_backoff(agent, status):
	agent.fail_next(status, times=2, path_pattern="^/ping$")
	client = client_for(agent, backoff_seconds=0.05)
	started = time.monotonic()
	assert client.ping() is True
	assert time.monotonic() - started >= 0.05 + 0.1  # 0.05 then 0.1: exponential backoff
	assert len(agent.requests_to("GET", "/ping")) == 3


def test_gateway_errors_past_the_retries_raise_retryable(agent):
	agent.fail_next(503, times=4)
	with pytest.raises(ServiceUnavailableError) as unavailable:
		client_for(agent).ping()
	assert unavailable.value.status_code == 503 and unavailable.value.retryable
	assert len(agent.requests_to("GET", "/ping")) == 4


def test_a_500_is_not_retried_and_names_the_error_line(agent):
	agent.fail_next(500, body={"error": ["Traceback (most recent call last):", "KeyError: 'db_host'"]})
	with pytest.raises(ServiceUnavailableError, match="KeyError: 'db_host'") as failed:
		client_for(agent).ping()
	assert failed.value.status_code == 500
	assert len(agent.requests) == 1


def test_a_500_with_a_command_record_is_a_failed_command(agent):
	agent.fail_next(
		500,
		body={
			"command": "docker exec bench-1 bench --site acme.example.com migrate",
			"output": "ImportError: x",
			"returncode": 1,
		},
	)
	with pytest.raises(AgentJobFailedError, match="ImportError: x") as failed:
		client_for(agent).migrate_site("bench-1", "acme.example.com")
	assert failed.value.command == "docker exec bench-1 bench --site acme.example.com migrate"


def test_connection_refused_is_retried_then_raised_without_secrets():
	client = AgentClient(
		AgentSettings(
			url=f"http://127.0.0.1:{free_port()}", password=PASSWORD, retries=2, backoff_seconds=0.01
		)
	)
	with pytest.raises(ServiceUnavailableError, match="is the agent running") as unavailable:
		client.ping()
	assert PASSWORD not in str(unavailable.value)


def test_a_read_timeout_is_retried(agent):
	agent.delay_next(0.5, path_pattern="^/jobs/")
	client = client_for(agent, read_timeout=0.2)
	job_id = client.migrate_site("bench-1", "acme.example.com")
	assert client.job(job_id).id == job_id
	assert len(agent.requests_to("GET", f"/jobs/{job_id}")) == 2


def test_a_dropped_connection_on_a_read_is_retried(agent):
	agent.drop_next(path_pattern="^/ping$")
	assert client_for(agent).ping() is True


def test_a_lost_answer_to_a_job_request_finds_the_job_instead_of_starting_another(agent):
	agent.lose_next_response()
	client = client_for(agent)
	job_id = client.install_app("bench-1", "acme.example.com", "erpnext", agent_job_id="press-job-0042")
	assert len(agent.requests_to("POST", "/benches/bench-1/sites/acme.example.com/apps")) == 1
	assert agent.requests_to("GET", "/agent-jobs/press-job-0042")
	assert len(agent.jobs) == 1 and agent.jobs[job_id].agent_job_id == "press-job-0042"


def test_a_job_request_that_never_arrived_is_sent_again(agent):
	agent.drop_next(path_pattern="/apps$")
	client = client_for(agent)
	job_id = client.install_app("bench-1", "acme.example.com", "erpnext")
	assert len(agent.requests_to("POST", "/benches/bench-1/sites/acme.example.com/apps")) == 2
	assert list(agent.jobs) == [job_id]


def test_a_job_request_answered_too_late_is_found_by_its_job_id_not_sent_again(agent):
	agent.delay_next(0.5, path_pattern="/migrate$")
	client = client_for(agent, read_timeout=0.2, backoff_seconds=0.1)
	job_id = client.migrate_site("bench-1", "acme.example.com", agent_job_id="press-job-0077")
	assert len(agent.requests_to("POST", "/benches/bench-1/sites/acme.example.com/migrate")) == 1
	assert list(agent.jobs) == [job_id]
	assert len(agent.requests_to("GET", "/agent-jobs/press-job-0077")) >= 2


def test_a_job_request_never_acted_on_in_time_says_to_look_it_up_later(agent):
	agent.delay_next(1.5, path_pattern="/migrate$")
	client = client_for(agent, read_timeout=0.2, retries=1, backoff_seconds=0.05)
	with pytest.raises(ServiceUnavailableError, match="press-job-0078 exists yet; look it up later"):
		client.migrate_site("bench-1", "acme.example.com", agent_job_id="press-job-0078")
	assert len(agent.requests_to("POST", "/benches/bench-1/sites/acme.example.com/migrate")) == 1
	time.sleep(1.4)  # let the slow request finish before the next test resets the stand-in


def test_redact_hides_password_flags_and_known_secrets():
	text = "bench --site s restore --db-root-password hunter2 --admin-password=pw2 token xyz s3cr3t"
	assert (
		redact(text, ["s3cr3t"])
		== "bench --site s restore --db-root-password ******** --admin-password=******** token xyz ********"
	)


def test_client_uses_a_given_session(agent):
	session = requests.Session()
	client = AgentClient(AgentSettings(url=agent.url, password=PASSWORD), session=session)
	assert client.ping() and client.session is session
