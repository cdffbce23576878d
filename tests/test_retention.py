"""Grandfather-father-son retention: properties over arbitrary backup histories, and worked examples."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from press_selfhost.backups.retention import RetentionPolicy, backups_to_delete, backups_to_keep
from press_selfhost.errors import ConfigurationError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

histories = st.sets(
	st.integers(min_value=0, max_value=800 * 24).map(lambda hours: NOW - timedelta(hours=hours)), max_size=60
)
policies = st.builds(
	RetentionPolicy,
	daily=st.integers(0, 10),
	weekly=st.integers(0, 6),
	monthly=st.integers(0, 14),
	max_age_days=st.none() | st.integers(1, 900),
)


def expected_to_keep(taken_at: set[datetime], policy: RetentionPolicy) -> set[datetime]:
	"""The policy read literally, one backup at a time: a different formulation from the module's."""

	def periods(moment):
		utc = moment.astimezone(timezone.utc)
		return {"daily": utc.date(), "weekly": utc.isocalendar()[:2], "monthly": (utc.year, utc.month)}

	kept = set()
	for moment in taken_at:
		for kind, limit in (("daily", policy.daily), ("weekly", policy.weekly), ("monthly", policy.monthly)):
			mine = periods(moment)[kind]
			newest_of_its_period = all(other <= moment for other in taken_at if periods(other)[kind] == mine)
			newer_periods = {periods(other)[kind] for other in taken_at if other > moment} - {mine}
			if newest_of_its_period and len(newer_periods) < limit:
				kept.add(moment)
		too_old = policy.max_age_days is not None and moment < NOW - timedelta(days=policy.max_age_days)
		if too_old:
			kept.discard(moment)
	return kept | ({max(taken_at)} if taken_at else set())


@given(histories, policies)
def test_keeps_exactly_what_the_policy_says(taken_at, policy):
	assert backups_to_keep(taken_at, policy, NOW) == expected_to_keep(taken_at, policy)


@given(histories, policies)
def test_never_deletes_the_newest(taken_at, policy):
	if taken_at:
		assert max(taken_at) not in backups_to_delete(taken_at, policy, NOW)


@given(histories, policies)
def test_keep_and_delete_partition_the_backups(taken_at, policy):
	kept, deleted = backups_to_keep(taken_at, policy, NOW), backups_to_delete(taken_at, policy, NOW)
	assert kept | deleted == taken_at and not kept & deleted


@given(histories, policies)
def test_stable_under_reruns(taken_at, policy):
	kept = backups_to_keep(taken_at, policy, NOW)
	assert backups_to_keep(kept, policy, NOW) == kept
	assert backups_to_delete(kept, policy, NOW) == set()


@given(histories, policies)
def test_never_keeps_more_than_the_policy_allows(taken_at, policy):
	kept = backups_to_keep(taken_at, policy, NOW)
	assert len(kept) <= max(1, policy.daily + policy.weekly + policy.monthly)


def test_a_worked_example():
	daily_at_3 = [datetime(2026, 11, 24, 3, tzinfo=timezone.utc) - timedelta(days=day) for day in range(120)]
	kept = backups_to_keep(daily_at_3, RetentionPolicy(daily=3, weekly=2, monthly=3, max_age_days=80), NOW)
	assert sorted(moment.date().isoformat() for moment in kept) == [
		"2026-09-30",  # newest of September
		"2026-10-31",  # newest of October
		"2026-11-22",  # daily, and Sunday: newest of the previous ISO week (47)
		"2026-11-23",  # daily
		"2026-11-24",  # newest: daily, weekly (ISO week 48) and monthly (November)
	]


def test_max_age_wins_over_the_periods_but_never_over_the_newest():
	old = [NOW - timedelta(days=500), NOW - timedelta(days=600)]
	assert backups_to_keep(old, RetentionPolicy(daily=7, weekly=4, monthly=12, max_age_days=30), NOW) == {
		old[0]
	}


def test_naive_times_are_refused():
	with pytest.raises(ValueError, match="timezone-aware"):
		backups_to_keep([datetime(2026, 1, 1), datetime(2026, 1, 2)], RetentionPolicy(), NOW)


def test_negative_counts_are_a_configuration_error():
	with pytest.raises(ConfigurationError):
		RetentionPolicy(daily=-1)
