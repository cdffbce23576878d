"""A stand-in for the stock Frappe Agent (no agent can run here: it needs Docker benches and RQ).

It speaks the stock routes, authentication and job/step schema of reference/agent-api.md: a
mutating call answers `{"job": id}` at once, and the job then goes Pending → Running (steps
appear one by one) → Success or Failure as time passes, like the real RQ worker. Knobs: slow
jobs, jobs that fail at a step with a command record, lost responses (acted on, answer dropped),
plus the base class's error statuses, delays and dropped connections.
"""

import base64
import itertools
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tests.support.standin import HTTPStandIn, Request, Response

SITE = "/benches/(?P<bench>[^/]+)/sites/(?P<site>[^/]+)"
# (method, path, job name, steps): each job and step named, and steps ordered, as in Press's Agent Job
# Type fixture (tests/test_agent_job_types.py holds this table to it).
JOB_ROUTES = (
	(
		"POST",
		"/benches",
		"New Bench",
		(
			"Initialize Bench",
			"Update Bench Configuration",
			"Deploy Bench",
			"Bench Setup NGINX",
		),
	),
	(
		"POST",
		"/benches/(?P<bench>[^/]+)/sites",
		"New Site",
		(
			"New Site",
			"Install Apps",
			"Update Site Configuration",
			"Enable Scheduler",
			"Bench Setup NGINX",
			"Reload NGINX",
		),
	),
	("POST", f"{SITE}/apps", "Install App on Site", ("Install App on Site",)),
	("DELETE", f"{SITE}/apps/(?P<app>[^/]+)", "Uninstall App from Site", ("Uninstall App from Site",)),
	("POST", f"{SITE}/backup", "Backup Site", ("Backup Site",)),
	("POST", f"{SITE}/restore", "Restore Site", ("Restore Site", "Migrate Site")),
	("POST", f"{SITE}/migrate", "Migrate Site", ("Migrate Site",)),
	(
		"POST",
		f"{SITE}/update/migrate",
		"Update Site Migrate",
		("Backup Site Tables", "Move Site", "Migrate Site"),
	),
	("POST", f"{SITE}/update/pull", "Update Site Pull", ("Move Site",)),
	("POST", f"{SITE}/move_to_bench", "Move Site to Bench", ("Move Site", "Migrate Site")),
	("POST", f"{SITE}/archive", "Archive Site", ("Archive Site",)),
	("POST", f"{SITE}/config", "Update Site Configuration", ("Update Site Configuration",)),
)


@dataclass
class PlannedFailure:
	step: str
	command: str
	output: str


@dataclass
class StandInJob:
	id: int
	name: str
	agent_job_id: str | None
	request: dict
	steps: tuple[str, ...]
	created: float
	result: dict
	failure: PlannedFailure | None = None
	cancelled_at: float | None = None
	step_ids: list[int] = field(default_factory=list)


class AgentStandIn(HTTPStandIn):
	"""The stock agent's HTTP face with jobs that progress over time."""

	name = "Agent stand-in"

	def __init__(self, password: str, *, pending_seconds: float = 0.05, step_seconds: float = 0.05):
		super().__init__()
		self.password = password
		self.pending_seconds = pending_seconds
		self.step_seconds = step_seconds
		self.benches: dict[str, set[str]] = {}
		self.jobs: dict[int, StandInJob] = {}
		self._job_ids = itertools.count(1)
		self._step_ids = itertools.count(1)
		self._planned_failures: dict[str, PlannedFailure] = {}
		self._responses_to_lose = 0
		self._state_lock = threading.Lock()
		self.route(
			"GET",
			"/ping",
			lambda request: self._authenticated(request, lambda: Response(200, {"message": "pong"})),
		)
		self.route("GET", "/jobs/(?P<ids>[0-9,]+)", self._get_jobs)
		self.route("POST", "/jobs/(?P<id>[0-9]+)/cancel", self._cancel)
		self.route("GET", "/agent-jobs/(?P<names>[^/]+)", self._get_agent_jobs)
		for method, pattern, job_name, steps in JOB_ROUTES:
			self.route(method, pattern, self._job_route(job_name, steps))

	# -- knobs --------------------------------------------------------------------------------
	def reset(self, *, pending_seconds: float = 0.05, step_seconds: float = 0.05) -> None:
		"""Forget jobs, benches, requests and pending faults, so one server can serve many tests."""
		with self._lock:
			self._faults.clear()
			self.requests.clear()
		self.pending_seconds, self.step_seconds = pending_seconds, step_seconds
		self.benches.clear()
		self.jobs.clear()
		self._planned_failures.clear()
		self._responses_to_lose = 0

	def add_bench(self, bench: str, *sites: str) -> None:
		self.benches.setdefault(bench, set()).update(sites)

	def fail_job(self, job_name: str, step: str, command: str, output: str) -> None:
		"""The next `job_name` job fails at `step`, its command record carrying `command` and `output`."""
		self._planned_failures[job_name] = PlannedFailure(step, command, output)

	def lose_next_response(self, times: int = 1) -> None:
		"""Act on the next `times` job requests, then drop the connection instead of answering."""
		self._responses_to_lose += times

	# -- routes -------------------------------------------------------------------------------
	def _authenticated(self, request: Request, answer) -> Response:
		authorization = request.headers.get("Authorization") or ""
		scheme, _, credential = authorization.partition(" ")
		if scheme.lower() == "basic":
			credential = base64.b64decode(credential).decode().partition(":")[2]
		elif scheme.lower() != "bearer":
			credential = None
		if credential != self.password:
			return Response(401, {"message": "Unauthenticated"})
		return answer()

	def _job_route(self, job_name: str, steps: tuple[str, ...]):
		def handle(request: Request) -> Response:
			return self._authenticated(request, lambda: self._create_job(request, job_name, steps))

		return handle

	def _create_job(self, request: Request, job_name: str, steps: tuple[str, ...]) -> Response:
		bench, site = request.params.get("bench"), request.params.get("site")
		body = request.json() or {}
		if job_name == "New Bench":
			self.benches.setdefault(body["name"], set())
		elif bench not in self.benches or (site and site not in self.benches[bench]):
			return _not_found(f"{bench}/{site}" if site else bench)
		if job_name == "New Site":
			self.benches[bench].add(body["name"])
		with self._state_lock:
			job = StandInJob(
				id=next(self._job_ids),
				name=job_name,
				agent_job_id=request.headers.get("X-Agent-Job-Id"),
				request=body,
				steps=steps,
				created=time.monotonic(),
				result=_result_of(job_name, body, site),
				failure=self._planned_failures.pop(job_name, None),
			)
			job.step_ids = [next(self._step_ids) for _ in steps]
			self.jobs[job.id] = job
		return Response(200, {"job": job.id})

	def _get_jobs(self, request: Request) -> Response:
		def answer():
			ids = [int(part) for part in request.params["ids"].split(",") if part]
			if "," not in request.params["ids"]:
				job = self.jobs.get(ids[0])
				return (
					Response(200, self.render(job))
					if job
					else Response(500, {"error": ["JobModel.DoesNotExist"]})
				)
			return Response(200, [self.render(self.jobs[i]) for i in ids if i in self.jobs])

		return self._authenticated(request, answer)

	def _get_agent_jobs(self, request: Request) -> Response:
		def answer():
			names = set(request.params["names"].split(","))
			return Response(
				200, [self.render(job) for job in self.jobs.values() if job.agent_job_id in names]
			)

		return self._authenticated(request, answer)

	def _cancel(self, request: Request) -> Response:
		def answer():
			job = self.jobs.get(int(request.params["id"]))
			if job is None:
				return Response(500, {"error": ["JobModel.DoesNotExist"]})
			job.cancelled_at = job.cancelled_at or time.monotonic()
			return Response(200, self.render(job))

		return self._authenticated(request, answer)

	# -- the stock job schema ---------------------------------------------------------------------
	def render(self, job: StandInJob) -> dict:
		"""The job as the stock agent's `to_dict` gives it: steps that never ran do not exist."""
		now = time.monotonic()
		if job.cancelled_at is not None:
			now = min(now, job.cancelled_at)
		started = job.created + self.pending_seconds
		wall = datetime.now() - timedelta(seconds=time.monotonic() - job.created)
		steps, status, data, end = [], "Pending", {}, None
		if now >= started:
			status = "Running"
			for index, step_name in enumerate(job.steps):
				step_start = started + index * self.step_seconds
				if now < step_start:
					break
				step_end = step_start + self.step_seconds
				step = {
					"id": job.step_ids[index],
					"name": step_name,
					"job": job.id,
					"status": "Running",
					"data": {},
					"start": str(wall + timedelta(seconds=step_start - job.created)),
					"end": None,
					"duration": None,
					"commands": [],
				}
				steps.append(step)
				if now < step_end:
					break
				step.update(end=str(wall + timedelta(seconds=step_end - job.created)))
				step.update(duration=str(timedelta(seconds=self.step_seconds)))
				if job.failure and job.failure.step == step_name:
					step.update(status="Failure", data=self._command_record(job.failure))
					status, data, end = "Failure", step["data"], step["end"]
					break
				step["status"] = "Success"
			else:
				status, data, end = "Success", job.result, steps[-1]["end"] if steps else None
		if job.cancelled_at is not None and status in ("Pending", "Running"):
			status, data, end = (
				"Failure",
				{"traceback": "rq.exceptions.StopJob: cancelled"},
				str(datetime.now()),
			)
		return {
			"id": job.id,
			"name": job.name,
			"status": status,
			"agent_job_id": job.agent_job_id,
			"data": data,
			"enqueue": str(wall),
			"start": str(wall + timedelta(seconds=self.pending_seconds)) if now >= started else None,
			"end": end,
			"duration": str(timedelta(seconds=now - started)) if end else None,
			"commands": [],
			"steps": steps,
		}

	@staticmethod
	def _command_record(failure: PlannedFailure) -> dict:
		return {
			"command": failure.command,
			"directory": "/home/frappe/benches/bench-1",
			"start": str(datetime.now()),
			"end": str(datetime.now()),
			"duration": "0:00:01",
			"output": failure.output,
			"status": "Failure",
			"returncode": 1,
			"traceback": "subprocess.CalledProcessError: returned non-zero exit status 1.",
		}

	# -- transport ----------------------------------------------------------------------------
	def _write(self, handler, response: Response) -> None:
		lose = (
			handler.command in ("POST", "DELETE") and response.status == 200 and self._responses_to_lose > 0
		)
		if lose and "job" in (response.body if isinstance(response.body, dict) else {}):
			self._responses_to_lose -= 1
			handler.close_connection = True
			handler.connection.shutdown(socket.SHUT_RDWR)
			return
		super()._write(handler, response)


def _not_found(what: str) -> Response:
	lines = traceback.format_exception_only(LookupError(f"{what} does not exist"))
	return Response(404, {"error": ["Traceback (most recent call last):", *lines]})


def _result_of(job_name: str, body: dict, site: str | None) -> dict:
	if job_name != "Backup Site":
		return {}
	stamp = "20261124_131500"

	def backup_file(suffix: str, size: int) -> dict:
		file = f"{stamp}-{site.replace('.', '_')}-{suffix}"
		return {
			"file": file,
			"path": f"/home/frappe/benches/bench-1/sites/{site}/private/backups/{file}",
			"size": size,
			"url": f"https://{site}/backups/{file}",
		}

	backups = {
		"database": backup_file("database.sql.gz", 2048),
		"site_config": backup_file("site_config_backup.json", 310),
	}
	if body.get("with_files"):
		backups |= {
			"public": backup_file("files.tar", 10240),
			"private": backup_file("private-files.tar", 4096),
		}
	return {"backups": backups, "offsite": {}}
