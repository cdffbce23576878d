"""Typed client of the stock Frappe Agent's HTTP API (reference/agent-api.md).

Press drives the agent for everything it offers; this client is for the doctor, bootstrap checks
and jobs Press does not send. Every mutating call carries an `X-Agent-Job-Id`, so a call whose
answer was lost is looked up (`/agent-jobs/<name>`) before it is sent again: a retry never starts
a second "New Site".
"""

import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import requests

from press_selfhost.errors import (
	AgentJobFailedError,
	ConfigurationError,
	ServiceRejectedError,
	ServiceUnavailableError,
)

SERVICE = "Agent"
RETRYABLE_STATUSES = frozenset({502, 503, 504})
# Stock agent commands carry passwords as flags (`bench new-site --admin-password …`).
_SECRET_FLAG = re.compile(r"(--?[\w-]*(?:password|secret|token|key)[\w-]*[= ]+)(\S+)", re.IGNORECASE)


class _TransientError(ServiceUnavailableError):
	"""The request may not have arrived or been answered: a connection error, a timeout, 502-504.

	`delivered` means the agent surely received it (it was slow to answer), so it may still act.
	"""

	def __init__(self, *args, delivered: bool = False, **kwargs):
		super().__init__(*args, **kwargs)
		self.delivered = delivered


class JobStatus(str, Enum):
	PENDING = "Pending"
	RUNNING = "Running"
	SUCCESS = "Success"
	FAILURE = "Failure"


@dataclass(frozen=True)
class Step:
	id: int
	name: str
	status: JobStatus
	data: dict


@dataclass(frozen=True)
class Job:
	"""A job as `GET /jobs/<id>` reports it."""

	id: int
	name: str
	status: JobStatus
	agent_job_id: str | None
	data: dict
	steps: tuple[Step, ...] = ()

	@property
	def ended(self) -> bool:
		return self.status in (JobStatus.SUCCESS, JobStatus.FAILURE)

	@classmethod
	def from_agent(cls, raw: Mapping) -> "Job":
		return cls(
			id=int(raw["id"]),
			name=raw["name"],
			status=JobStatus(raw["status"]),
			agent_job_id=raw.get("agent_job_id"),
			data=raw.get("data") or {},
			steps=tuple(
				Step(int(step["id"]), step["name"], JobStatus(step["status"]), step.get("data") or {})
				for step in raw.get("steps") or ()
			),
		)


@dataclass(frozen=True)
class AgentSettings:
	"""How to reach one agent: `url` ends before the agent's own paths (e.g. https://f1.example.com/agent)."""

	url: str
	password: str = field(repr=False)
	connect_timeout: float = 5.0
	read_timeout: float = 30.0
	retries: int = 3
	backoff_seconds: float = 0.5


def redact(text: str, secrets: Iterable[str] = ()) -> str:
	"""Text with password-like flag values and the given secrets replaced, fit for an error or a log."""
	text = _SECRET_FLAG.sub(lambda match: match.group(1) + "********", text or "")
	for secret in secrets:
		if secret:
			text = text.replace(secret, "********")
	return text


class AgentClient:
	"""One method per agent endpoint; mutating methods return the agent's job id."""

	def __init__(self, settings: AgentSettings, session: requests.Session | None = None):
		if not settings.url or not settings.password:
			raise ConfigurationError("Agent: set agent_url and agent_password in Selfhost Settings.")
		self.settings = settings
		self.base_url = settings.url.rstrip("/")
		self.session = session or requests.Session()

	# -- health --------------------------------------------------------------------------------
	def ping(self) -> bool:
		return self._request("GET", "ping").get("message") == "pong"

	# -- sites ---------------------------------------------------------------------------------
	def new_site(
		self,
		bench: str,
		name: str,
		*,
		apps: Sequence[str],
		config: Mapping,
		mariadb_root_password: str,
		admin_password: str,
		agent_job_id: str | None = None,
	) -> int:
		body = {
			"name": name,
			"apps": list(apps),
			"config": dict(config),
			"mariadb_root_password": mariadb_root_password,
			"admin_password": admin_password,
		}
		return self._submit("POST", f"benches/{bench}/sites", body, agent_job_id)

	def install_app(self, bench: str, site: str, app: str, *, agent_job_id: str | None = None) -> int:
		return self._submit("POST", f"benches/{bench}/sites/{site}/apps", {"name": app}, agent_job_id)

	def uninstall_app(self, bench: str, site: str, app: str, *, agent_job_id: str | None = None) -> int:
		return self._submit("DELETE", f"benches/{bench}/sites/{site}/apps/{app}", {}, agent_job_id)

	def backup_site(self, bench: str, site: str, *, with_files: bool, agent_job_id: str | None = None) -> int:
		"""A local backup (the stock agent cannot upload to MinIO: it ignores the endpoint URL)."""
		body = {"with_files": with_files}
		return self._submit("POST", f"benches/{bench}/sites/{site}/backup", body, agent_job_id)

	def restore_site(
		self,
		bench: str,
		site: str,
		*,
		apps: Sequence[str],
		mariadb_root_password: str,
		admin_password: str,
		database: str | None,
		public: str | None = None,
		private: str | None = None,
		skip_failing_patches: bool = False,
		agent_job_id: str | None = None,
	) -> int:
		"""Restore from backup file URLs (presigned MinIO URLs work); no database means files only."""
		body = {
			"apps": list(apps),
			"mariadb_root_password": mariadb_root_password,
			"admin_password": admin_password,
			"database": database,
			"public": public,
			"private": private,
			"skip_failing_patches": skip_failing_patches,
		}
		return self._submit("POST", f"benches/{bench}/sites/{site}/restore", body, agent_job_id)

	def migrate_site(
		self,
		bench: str,
		site: str,
		*,
		skip_failing_patches: bool = False,
		activate: bool = True,
		agent_job_id: str | None = None,
	) -> int:
		body = {"skip_failing_patches": skip_failing_patches, "activate": activate}
		return self._submit("POST", f"benches/{bench}/sites/{site}/migrate", body, agent_job_id)

	def update_site(
		self,
		bench: str,
		site: str,
		*,
		target: str,
		migrate: bool = True,
		activate: bool = True,
		skip_failing_patches: bool = False,
		skip_backups: bool = False,
		agent_job_id: str | None = None,
	) -> int:
		"""Move the site to bench `target`, migrating on the way ("Update Site Migrate") or not ("Pull")."""
		body = {
			"target": target,
			"activate": activate,
			"skip_failing_patches": skip_failing_patches,
			"skip_backups": skip_backups,
			"before_migrate_scripts": None,
			"skip_search_index": True,
		}
		kind = "migrate" if migrate else "pull"
		return self._submit("POST", f"benches/{bench}/sites/{site}/update/{kind}", body, agent_job_id)

	def move_site_to_bench(
		self,
		bench: str,
		site: str,
		*,
		target: str,
		activate: bool = True,
		deactivate: bool = True,
		skip_failing_patches: bool = False,
		agent_job_id: str | None = None,
	) -> int:
		body = {
			"target": target,
			"activate": activate,
			"deactivate": deactivate,
			"skip_failing_patches": skip_failing_patches,
		}
		return self._submit("POST", f"benches/{bench}/sites/{site}/move_to_bench", body, agent_job_id)

	def archive_site(
		self,
		bench: str,
		site: str,
		*,
		mariadb_root_password: str,
		force: bool = False,
		agent_job_id: str | None = None,
	) -> int:
		body = {"mariadb_root_password": mariadb_root_password, "force": force}
		return self._submit("POST", f"benches/{bench}/sites/{site}/archive", body, agent_job_id)

	def update_site_config(
		self,
		bench: str,
		site: str,
		config: Mapping,
		*,
		remove: Sequence[str] = (),
		agent_job_id: str | None = None,
	) -> int:
		"""Merge `config` into site_config.json and drop the keys in `remove`."""
		body = {"config": dict(config), "remove": list(remove)}
		return self._submit("POST", f"benches/{bench}/sites/{site}/config", body, agent_job_id)

	# -- jobs ----------------------------------------------------------------------------------
	def job(self, job_id: int) -> Job:
		return Job.from_agent(self._request("GET", f"jobs/{int(job_id)}"))

	def jobs(self, job_ids: Sequence[int]) -> list[Job]:
		"""Several jobs in one request, as Press polls them (the agent answers a dict for one id)."""
		if not job_ids:
			return []
		answer = self._request("GET", "jobs/" + ",".join(str(int(job_id)) for job_id in job_ids))
		return [Job.from_agent(raw) for raw in ([answer] if isinstance(answer, dict) else answer)]

	def jobs_by_agent_job_id(self, agent_job_ids: Sequence[str]) -> list[Job]:
		if not agent_job_ids:
			return []
		answer = self._request("GET", "agent-jobs/" + ",".join(agent_job_ids))
		return [Job.from_agent(raw) for raw in ([answer] if isinstance(answer, dict) else answer)]

	def cancel_job(self, job_id: int) -> Job:
		return Job.from_agent(self._request("POST", f"jobs/{int(job_id)}/cancel"))

	def wait_for_job(self, job_id: int, *, timeout: float = 600.0, poll_interval: float = 5.0) -> Job:
		"""Poll until the job ends; its result on Success, AgentJobFailedError on Failure."""
		deadline = time.monotonic() + timeout
		while True:
			job = self.job(job_id)
			if job.status is JobStatus.SUCCESS:
				return job
			if job.status is JobStatus.FAILURE:
				raise self._job_failure(job)
			if time.monotonic() >= deadline:
				raise ServiceUnavailableError(
					SERVICE, f"job {job_id} ({job.name}) is still {job.status.value} after {timeout:.0f} s"
				)
			time.sleep(poll_interval)

	# -- transport -----------------------------------------------------------------------------
	def _submit(self, method: str, path: str, body: Mapping, agent_job_id: str | None) -> int:
		"""Send a job request; if its answer may have been lost, find the job before sending again."""
		agent_job_id = agent_job_id or uuid.uuid4().hex
		attempts = self.settings.retries + 1
		for attempt in range(attempts):
			if attempt:
				time.sleep(self.settings.backoff_seconds * 2 ** (attempt - 1))
				existing = self._find_job(agent_job_id)
				if existing is not None:
					return existing
			try:
				answer = self._send(method, path, body, agent_job_id)
			except _TransientError as error:
				if error.delivered:
					# The agent has the request and may still act on it: sending it again could
					# start the work twice, so only look for the job it makes.
					return self._await_delivered_job(method, path, agent_job_id, attempts)
				if attempt == attempts - 1:
					raise
				continue
			return int(answer["job"])
		raise AssertionError("unreachable: the last attempt returns or raises")

	def _await_delivered_job(self, method: str, path: str, agent_job_id: str, attempts: int) -> int:
		for attempt in range(attempts):
			time.sleep(self.settings.backoff_seconds * 2**attempt)
			existing = self._find_job(agent_job_id)
			if existing is not None:
				return existing
		raise ServiceUnavailableError(
			SERVICE,
			f"{method} /{path} was sent but not answered in time and no job with X-Agent-Job-Id "
			f"{agent_job_id} exists yet; look it up later before sending it again",
		)

	def _find_job(self, agent_job_id: str) -> int | None:
		try:
			found = self.jobs_by_agent_job_id([agent_job_id])
		except ServiceUnavailableError:
			return None
		return found[0].id if found else None

	def _request(self, method: str, path: str, body: Mapping | None = None):
		"""A read (or cancel): safe to repeat, so retried on connection errors and 502-504."""
		attempts = self.settings.retries + 1
		for attempt in range(attempts):
			if attempt:
				time.sleep(self.settings.backoff_seconds * 2 ** (attempt - 1))
			try:
				return self._send(method, path, body, None)
			except _TransientError:
				if attempt == attempts - 1:
					raise
		raise AssertionError("unreachable: the last attempt returns or raises")

	def _send(self, method: str, path: str, body: Mapping | None, agent_job_id: str | None):
		headers = {"Authorization": f"Bearer {self.settings.password}", "Accept": "application/json"}
		if agent_job_id:
			headers["X-Agent-Job-Id"] = agent_job_id
		try:
			response = self.session.request(
				method,
				f"{self.base_url}/{path}",
				json=body,
				headers=headers,
				timeout=(self.settings.connect_timeout, self.settings.read_timeout),
			)
		except requests.ReadTimeout:
			raise _TransientError(
				SERVICE, f"{method} /{path} got no answer in {self.settings.read_timeout} s", delivered=True
			) from None
		except requests.Timeout:
			raise _TransientError(SERVICE, f"{method} /{path}: connecting timed out") from None
		except requests.ConnectionError:
			raise _TransientError(
				SERVICE, f"cannot connect to {self.base_url} for {method} /{path}; is the agent running?"
			) from None
		return self._answer(method, path, response)

	def _answer(self, method: str, path: str, response: requests.Response):
		status = response.status_code
		if status in RETRYABLE_STATUSES:
			raise _TransientError(SERVICE, f"{method} /{path}: gateway error", status_code=status)
		if status == 401:
			raise ServiceRejectedError(
				SERVICE,
				"the agent refused the password: agent_password in Selfhost Settings must be the one "
				"given to `agent setup authentication` on that server",
				status_code=401,
			)
		if status == 404:
			raise ServiceRejectedError(
				SERVICE, f"{method} /{path}: no such bench, site or job on this agent", status_code=404
			)
		try:
			payload = response.json()
		except ValueError:
			payload = None
		if status >= 400:
			raise self._error_from(method, path, status, payload)
		if payload is None:
			raise ServiceUnavailableError(
				SERVICE, f"{method} /{path}: the answer is not JSON", status_code=status
			)
		return payload

	def _error_from(self, method: str, path: str, status: int, payload):
		secrets = (self.settings.password,)
		if isinstance(payload, dict) and "command" in payload:
			# A command failed while the request ran (the stock agent answers 500 with its record).
			return AgentJobFailedError(
				None,
				f"{method} /{path}",
				None,
				redact(str(payload["command"]), secrets),
				redact(str(payload.get("output", "")), secrets),
			)
		detail = ""
		if isinstance(payload, dict) and isinstance(payload.get("error"), list) and payload["error"]:
			detail = ": " + redact(str(payload["error"][-1]), secrets)
		error_class = ServiceUnavailableError if status >= 500 else ServiceRejectedError
		return error_class(SERVICE, f"{method} /{path} failed{detail}", status_code=status)

	def _job_failure(self, job: Job) -> AgentJobFailedError:
		secrets = (self.settings.password,)
		failed = next((step for step in job.steps if step.status is JobStatus.FAILURE), None)
		record = failed.data if failed and failed.data else job.data
		return AgentJobFailedError(
			job.id,
			job.name,
			failed.name if failed else None,
			redact(str(record["command"]), secrets) if record.get("command") else None,
			redact(str(record.get("output") or record.get("traceback") or ""), secrets),
		)
