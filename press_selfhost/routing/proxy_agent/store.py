"""Jobs recorded in SQLite, rendered in the stock agent's job and step schema (agent/job.py).

Each job is written complete (Success, its steps Success) in one transaction before its id is
answered, so a restart never loses a job Press is about to poll.
"""

import json
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	agent_job_id TEXT,
	method TEXT NOT NULL,
	path TEXT NOT NULL,
	request TEXT NOT NULL,
	data TEXT NOT NULL DEFAULT '{}',
	enqueue TEXT NOT NULL,
	start TEXT,
	"end" TEXT,
	duration TEXT
);
CREATE INDEX IF NOT EXISTS jobs_agent_job_id ON jobs (agent_job_id);
CREATE TABLE IF NOT EXISTS steps (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	job INTEGER NOT NULL REFERENCES jobs (id),
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	data TEXT NOT NULL DEFAULT '{}',
	start TEXT NOT NULL,
	"end" TEXT,
	duration TEXT
);
CREATE INDEX IF NOT EXISTS steps_job ON steps (job);
"""

# Request keys never written to disk: Press sends certificates with private keys (Traefik issues its
# own) and ProxySQL users with their database password.
UNSTORED_KEYS = frozenset({"certificate", "password"})


class JobStore:
	def __init__(self, path: str | Path):
		self._connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
		self._connection.execute("PRAGMA journal_mode=WAL")
		self._connection.execute("PRAGMA synchronous=FULL")
		self._connection.executescript(SCHEMA)
		self._lock = threading.Lock()

	def close(self) -> None:
		self._connection.close()

	def record_success(
		self,
		name: str,
		steps: tuple[str, ...],
		*,
		method: str,
		path: str,
		request: object,
		agent_job_id: str | None,
		data: dict | None = None,
	) -> int:
		"""Store a finished job; a repeat of one X-Agent-Job-Id for the same job returns the first."""
		now = datetime.now()
		stamp, zero = str(now), str(timedelta(0))
		with self._lock:
			cursor = self._connection.cursor()
			# IMMEDIATE takes the write lock first, so two workers cannot both miss the lookup.
			cursor.execute("BEGIN IMMEDIATE")
			try:
				found = (
					agent_job_id
					and cursor.execute(
						"SELECT id FROM jobs WHERE agent_job_id = ? AND name = ? ORDER BY id LIMIT 1",
						(agent_job_id, name),
					).fetchone()
				)
				if found:
					cursor.execute("COMMIT")
					return found[0]
				cursor.execute(
					'INSERT INTO jobs (name, status, agent_job_id, method, path, request, data, enqueue, start, "end", duration)'
					" VALUES (?, 'Success', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
					(
						name,
						agent_job_id,
						method,
						path,
						json.dumps(_storable(request)),
						json.dumps(data or {}),
						stamp,
						stamp,
						stamp,
						zero,
					),
				)
				job_id = cursor.lastrowid
				cursor.executemany(
					"INSERT INTO steps (job, name, status, data, start, \"end\", duration) VALUES (?, ?, 'Success', '{}', ?, ?, ?)",
					[(job_id, step, stamp, stamp, zero) for step in steps],
				)
				cursor.execute("COMMIT")
			except BaseException:
				cursor.execute("ROLLBACK")
				raise
			return job_id

	def jobs(self, ids: list[int]) -> list[dict]:
		with self._lock:  # one connection shared by a threaded server's requests
			return self._render(self._select("id", ids))

	def jobs_by_agent_job_id(self, names: list[str]) -> list[dict]:
		with self._lock:
			return self._render(self._select("agent_job_id", names))

	def recent(self, limit: int = 100) -> list[dict]:
		"""`GET /jobs` of the stock agent: the last jobs, without data, enqueue or duration."""
		with self._lock:
			rows = self._connection.execute(
				'SELECT id, name, status, agent_job_id, start, "end" FROM jobs ORDER BY id DESC LIMIT ?',
				(limit,),
			).fetchall()
		return [
			dict(zip(("id", "name", "status", "agent_job_id", "start", "end"), row, strict=True))
			for row in rows
		]

	def recent_agent_job_ids(self, limit: int = 100) -> list[str | None]:
		with self._lock:
			rows = self._connection.execute(
				"SELECT agent_job_id FROM jobs ORDER BY id DESC LIMIT ?", (limit,)
			).fetchall()
		return [row[0] for row in rows]

	def _select(self, column: str, values: list) -> list[tuple]:
		if not values:
			return []
		marks = ",".join("?" * len(values))
		return self._connection.execute(
			f'SELECT id, name, status, agent_job_id, data, enqueue, start, "end", duration FROM jobs '  # noqa: S608 -- column is ours, values are bound
			f"WHERE {column} IN ({marks}) ORDER BY id",
			values,
		).fetchall()

	def _render(self, rows: list[tuple]) -> list[dict]:
		if not rows:
			return []
		ids = [row[0] for row in rows]
		marks = ",".join("?" * len(ids))
		steps_by_job: dict[int, list[dict]] = {job_id: [] for job_id in ids}
		for step in self._connection.execute(
			f'SELECT id, job, name, status, data, start, "end", duration FROM steps WHERE job IN ({marks}) ORDER BY id',  # noqa: S608
			ids,
		):
			step_id, job_id, name, status, data, start, end, duration = step
			steps_by_job[job_id].append(
				{
					"id": step_id,
					"name": name,
					"job": job_id,
					"status": status,
					"data": json.loads(data) or {},
					"start": start,
					"end": end,
					"duration": duration,
					"commands": [],
				}
			)
		return [
			{
				"id": job_id,
				"name": name,
				"status": status,
				"agent_job_id": agent_job_id,
				"data": json.loads(data) or {},
				"enqueue": enqueue,
				"start": start,
				"end": end,
				"duration": duration,
				"commands": [],
				"steps": steps_by_job[job_id],
			}
			for job_id, name, status, agent_job_id, data, enqueue, start, end, duration in rows
		]


def _storable(request: object) -> object:
	if isinstance(request, dict):
		return {key: value for key, value in request.items() if key not in UNSTORED_KEYS}
	if isinstance(request, list):
		return [_storable(item) for item in request]
	return request
