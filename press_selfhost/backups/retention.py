"""Which backups to keep: grandfather-father-son (daily, weekly, monthly) plus a maximum age. Pure.

For each period kind, the newest backup of each of the most recent N periods that have a backup is
kept (as restic's `forget --keep-daily` does): a week without backups does not use up a weekly slot.
Anything older than the maximum age goes, whatever the periods say, except the newest backup, which
is always kept so a site is never left without one. Applying the policy to what it kept keeps all
of it again, so a re-run after a partial failure deletes nothing more.
"""

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from press_selfhost.errors import ConfigurationError


@dataclass(frozen=True)
class RetentionPolicy:
	daily: int = 7
	weekly: int = 4
	monthly: int = 12
	max_age_days: int | None = 400

	def __post_init__(self):
		if min(self.daily, self.weekly, self.monthly) < 0 or (
			self.max_age_days is not None and self.max_age_days < 1
		):
			raise ConfigurationError(
				"Backups: retention counts must be 0 or more and the maximum age at least 1 day."
			)


def _day(moment: datetime) -> Hashable:
	return _utc(moment).date()


def _week(moment: datetime) -> Hashable:
	return _utc(moment).isocalendar()[:2]


def _month(moment: datetime) -> Hashable:
	utc = _utc(moment)
	return (utc.year, utc.month)


def _utc(moment: datetime) -> datetime:
	if moment.tzinfo is None:
		raise ValueError("backup times must be timezone-aware")
	return moment.astimezone(timezone.utc)


def _newest_per_period(
	moments: list[datetime], period: Callable[[datetime], Hashable], count: int
) -> set[datetime]:
	kept: set[datetime] = set()
	seen: set[Hashable] = set()
	for moment in moments:  # newest first
		if len(seen) >= count:
			break
		if period(moment) not in seen:
			seen.add(period(moment))
			kept.add(moment)
	return kept


def backups_to_keep(taken_at: Iterable[datetime], policy: RetentionPolicy, now: datetime) -> set[datetime]:
	"""The backup times to keep out of `taken_at` (timezone-aware), as of `now`."""
	moments = sorted(set(taken_at), reverse=True)
	if not moments:
		return set()
	kept = (
		_newest_per_period(moments, _day, policy.daily)
		| _newest_per_period(moments, _week, policy.weekly)
		| _newest_per_period(moments, _month, policy.monthly)
	)
	if policy.max_age_days is not None:
		oldest_allowed = _utc(now) - timedelta(days=policy.max_age_days)
		kept = {moment for moment in kept if moment >= oldest_allowed}
	return kept | {moments[0]}


def backups_to_delete(taken_at: Iterable[datetime], policy: RetentionPolicy, now: datetime) -> set[datetime]:
	moments = set(taken_at)
	return moments - backups_to_keep(moments, policy, now)
