"""Which sites to back up now, per plan, and when to retry a failed backup. Pure.

A site is due when it has no successful backup (of the kind its plan asks for) within its plan's
interval. A failure since that last success delays the next attempt by a backoff that doubles with
each consecutive failure, capped so a site keeps being retried at least every `max_delay`: a failing
site is never dropped, it keeps reappearing in `retry` (and in `waiting` in between) until a backup
succeeds. The answer depends only on its inputs, so a re-run at the same moment, or a run that starts
nothing, asks for the same backups again.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from press_selfhost.errors import ConfigurationError


@dataclass(frozen=True)
class BackupPolicy:
	interval_hours: int = 24
	with_files: bool = True

	def __post_init__(self):
		if self.interval_hours < 1:
			raise ConfigurationError("Backups: a backup policy's interval must be at least 1 hour.")

	@property
	def interval(self) -> timedelta:
		return timedelta(hours=self.interval_hours)


@dataclass(frozen=True)
class RetryPolicy:
	first_delay: timedelta = timedelta(minutes=15)
	max_delay: timedelta = timedelta(hours=6)

	def __post_init__(self):
		if self.first_delay <= timedelta(0) or self.max_delay < self.first_delay:
			raise ConfigurationError(
				"Backups: the first retry delay must be positive and no longer than the maximum retry delay."
			)

	def delay(self, failed_attempts: int) -> timedelta:
		"""Wait after the n-th consecutive failure: first_delay, doubled each time, at most max_delay."""
		if failed_attempts < 1:
			return timedelta(0)
		delay = self.first_delay
		for _ in range(failed_attempts - 1):
			if delay >= self.max_delay:
				break  # doubling further could overflow timedelta
			delay *= 2
		return min(delay, self.max_delay)


@dataclass(frozen=True)
class Attempt:
	"""One backup of a site as Press recorded it (or a scheduling error we logged): when and how it ended."""

	at: datetime
	succeeded: bool
	with_files: bool = False
	in_progress: bool = False


@dataclass(frozen=True)
class SiteState:
	site: str
	plan: str | None
	last_success: datetime | None = None
	last_failure: datetime | None = None
	failed_attempts: int = 0  # consecutive failures since last_success
	in_progress: bool = False  # a backup is pending or running: never start a second one


@dataclass(frozen=True)
class Scheduled:
	site: str
	with_files: bool
	attempt: int  # 1 for a regular backup, n + 1 after n consecutive failures


@dataclass(frozen=True)
class Waiting:
	site: str
	failed_attempts: int
	retry_at: datetime


@dataclass(frozen=True)
class BackupRun:
	due: tuple[Scheduled, ...]  # no success within the interval, no failure since: back up now
	retry: tuple[Scheduled, ...]  # failed since the last success and the backoff has passed
	waiting: tuple[Waiting, ...]  # failed, backoff not over yet: retried at retry_at


def site_state(site: str, plan: str | None, attempts: Iterable[Attempt], policy: BackupPolicy) -> SiteState:
	"""Summarise a site's recorded attempts: a success counts only if it has the files the policy wants."""
	attempts = sorted(attempts, key=lambda attempt: attempt.at)
	successes = [a.at for a in attempts if a.succeeded and (a.with_files or not policy.with_files)]
	last_success = successes[-1] if successes else None
	failures = [
		a.at
		for a in attempts
		if not a.succeeded and not a.in_progress and (last_success is None or a.at > last_success)
	]
	return SiteState(
		site=site,
		plan=plan,
		last_success=last_success,
		last_failure=failures[-1] if failures else None,
		failed_attempts=len(failures),
		in_progress=any(a.in_progress for a in attempts),
	)


def plan_backups(
	sites: Iterable[SiteState],
	policies: Mapping[str, BackupPolicy],
	default: BackupPolicy,
	now: datetime,
	retry: RetryPolicy = RetryPolicy(),
) -> BackupRun:
	"""Sort sites into due, to retry and waiting; sites with a backup in progress or recent enough are left out."""
	due, retries, waiting = [], [], []
	for state in sorted(sites, key=lambda state: state.site):
		policy = policies.get(state.plan, default) if state.plan else default
		if state.in_progress or (state.last_success and now - state.last_success < policy.interval):
			continue
		if state.failed_attempts < 1 or state.last_failure is None:
			due.append(Scheduled(state.site, policy.with_files, 1))
			continue
		retry_at = state.last_failure + retry.delay(state.failed_attempts)
		if now >= retry_at:
			retries.append(Scheduled(state.site, policy.with_files, state.failed_attempts + 1))
		else:
			waiting.append(Waiting(state.site, state.failed_attempts, retry_at))
	return BackupRun(tuple(due), tuple(retries), tuple(waiting))


def lookback(policies: Iterable[BackupPolicy], retry: RetryPolicy = RetryPolicy()) -> timedelta:
	"""How far back attempts must be read: older ones cannot change the plan (a site with no success
	that recent is due anyway, and a failure that old has waited out its longest backoff)."""
	longest = max((policy.interval for policy in policies), default=timedelta(hours=24))
	return max(longest, retry.max_delay) + timedelta(hours=1)
