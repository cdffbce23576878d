"""Per-plan backup scheduling with retries: properties over simulated runs, and worked examples."""

from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from press_selfhost.backups.schedule import (
	Attempt,
	BackupPolicy,
	RetryPolicy,
	Scheduled,
	SiteState,
	Waiting,
	lookback,
	plan_backups,
	site_state,
)
from press_selfhost.errors import ConfigurationError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
DEFAULT = BackupPolicy(interval_hours=24, with_files=True)
POLICIES = {"small": BackupPolicy(6, False), "large": BackupPolicy(12, True)}
RETRY = RetryPolicy(first_delay=timedelta(minutes=15), max_delay=timedelta(hours=4))
PLANS = st.sampled_from([None, "small", "large", "unknown"])

retry_policies = st.builds(
	lambda first, extra: RetryPolicy(timedelta(minutes=first), timedelta(minutes=first + extra)),
	st.integers(1, 120),
	st.integers(0, 24 * 60),
)
site_states = st.builds(
	SiteState,
	site=st.sampled_from(["a.test", "b.test", "c.test", "d.test"]),
	plan=PLANS,
	last_success=st.none() | st.integers(0, 72 * 60).map(lambda m: NOW - timedelta(minutes=m)),
	last_failure=st.none() | st.integers(0, 72 * 60).map(lambda m: NOW - timedelta(minutes=m)),
	failed_attempts=st.integers(0, 50),
	in_progress=st.booleans(),
)


def policy_of(plan):
	return POLICIES.get(plan, DEFAULT) if plan else DEFAULT


def simulate(plans, outcomes, step_minutes, retry=RETRY):
	"""Run the scheduler every step for each site; each started backup ends at once as `outcomes` says.
	Returns each site's attempts and every plan made."""
	history = {site: [] for site in plans}
	runs = []
	for step, succeeded in enumerate(outcomes):
		now = NOW + timedelta(minutes=step * step_minutes)
		states = [
			site_state(site, plan, history[site], policy_of(plan)) for site, plan in sorted(plans.items())
		]
		run = plan_backups(states, POLICIES, DEFAULT, now, retry)
		runs.append((now, run))
		for scheduled in run.due + run.retry:
			history[scheduled.site].append(Attempt(now, succeeded, with_files=scheduled.with_files))
	return history, runs


simulations = st.fixed_dictionaries({}, optional={"a.test": PLANS, "b.test": PLANS, "c.test": PLANS}).flatmap(
	lambda plans: st.tuples(
		st.just(plans), st.lists(st.booleans(), min_size=1, max_size=120), st.sampled_from([5, 10, 15, 60])
	)
)


@settings(max_examples=60)
@given(simulations)
def test_no_backup_starts_inside_the_interval_of_a_success(simulation):
	plans, outcomes, step = simulation
	history, _ = simulate(plans, outcomes, step)
	for site, attempts in history.items():
		interval = policy_of(plans[site]).interval
		for earlier, later in pairwise(attempts):
			if earlier.succeeded:
				assert later.at - earlier.at >= interval


@settings(max_examples=60)
@given(simulations)
def test_a_failing_site_is_retried_with_growing_delays_and_never_dropped(simulation):
	plans, outcomes, step = simulation
	history, runs = simulate(plans, outcomes, step)
	for attempts in history.values():
		gaps = []
		for earlier, later in pairwise(attempts):
			if not earlier.succeeded:
				gaps.append(later.at - earlier.at)
				assert later.at - earlier.at >= RETRY.delay(1)
			else:
				gaps = []
			assert gaps == sorted(gaps)  # consecutive failures: each wait at least as long as the last
	for now, run in runs:
		listed = {s.site for s in run.due + run.retry} | {w.site for w in run.waiting}
		for site in plans:
			states = [a for a in history[site] if a.at < now]
			last_success = max((a.at for a in states if a.succeeded), default=None)
			has_failed = any(
				not a.succeeded and (last_success is None or a.at > last_success) for a in states
			)
			if has_failed:
				assert site in listed  # waiting or retried, never silently forgotten
		for waiting in run.waiting:
			assert waiting.retry_at > now
			assert waiting.retry_at - now <= RETRY.max_delay


@given(st.lists(site_states, max_size=8, unique_by=lambda s: s.site), retry_policies, st.randoms())
def test_the_plan_depends_only_on_its_inputs(states, retry, random):
	first = plan_backups(states, POLICIES, DEFAULT, NOW, retry)
	shuffled = list(states)
	random.shuffle(shuffled)
	assert plan_backups(shuffled, POLICIES, DEFAULT, NOW, retry) == first
	assert plan_backups(states, POLICIES, DEFAULT, NOW, retry) == first
	every = [s.site for s in first.due + first.retry] + [w.site for w in first.waiting]
	assert len(every) == len(set(every))


@given(retry_policies, st.integers(1, 60))
def test_retry_delay_doubles_up_to_its_cap(retry, attempts):
	assert retry.delay(1) == retry.first_delay
	assert retry.delay(attempts + 1) >= retry.delay(attempts)
	assert retry.delay(attempts) <= retry.max_delay
	if retry.delay(attempts) * 2 <= retry.max_delay:
		assert retry.delay(attempts + 1) == retry.delay(attempts) * 2


@given(st.lists(site_states, max_size=8, unique_by=lambda s: s.site), retry_policies)
def test_attempts_older_than_the_lookback_cannot_change_the_plan(states, retry):
	horizon = NOW - lookback([DEFAULT, *POLICIES.values()], retry)

	def forget_old(state):
		success = state.last_success if state.last_success and state.last_success >= horizon else None
		if state.last_failure and state.last_failure < horizon:
			return SiteState(state.site, state.plan, success, None, 0, state.in_progress)
		return SiteState(
			state.site, state.plan, success, state.last_failure, state.failed_attempts, state.in_progress
		)

	full = plan_backups(states, POLICIES, DEFAULT, NOW, retry)
	trimmed = plan_backups([forget_old(s) for s in states], POLICIES, DEFAULT, NOW, retry)
	started = lambda run: {(s.site, s.with_files) for s in run.due + run.retry}  # noqa: E731
	assert started(trimmed) == started(full)


def test_worked_example_per_plan_intervals_and_backoff():
	states = [
		SiteState("fresh.test", "small", last_success=NOW - timedelta(hours=5)),
		SiteState("stale.test", "small", last_success=NOW - timedelta(hours=6)),
		SiteState("never.test", None),
		SiteState(
			"failing.test",
			"large",
			last_success=NOW - timedelta(days=2),
			last_failure=NOW - timedelta(minutes=20),
			failed_attempts=2,
		),
		SiteState(
			"retried.test",
			"large",
			last_failure=NOW - timedelta(minutes=31),
			failed_attempts=2,
		),
		SiteState("busy.test", None, in_progress=True),
	]
	run = plan_backups(states, POLICIES, DEFAULT, NOW, RETRY)
	assert run.due == (Scheduled("never.test", True, 1), Scheduled("stale.test", False, 1))
	assert run.retry == (Scheduled("retried.test", True, 3),)
	assert run.waiting == (Waiting("failing.test", 2, NOW + timedelta(minutes=10)),)


def test_site_state_counts_failures_since_the_last_success_with_the_files_the_plan_wants():
	attempts = [
		Attempt(NOW - timedelta(hours=30), succeeded=True, with_files=True),
		Attempt(NOW - timedelta(hours=3), succeeded=False),
		Attempt(NOW - timedelta(hours=2), succeeded=True, with_files=False),  # database only
		Attempt(NOW - timedelta(hours=1), succeeded=False),
	]
	with_files = site_state("a.test", "large", attempts, BackupPolicy(12, True))
	assert with_files.last_success == NOW - timedelta(hours=30)
	assert (with_files.failed_attempts, with_files.last_failure) == (2, NOW - timedelta(hours=1))
	database_only = site_state("a.test", "small", attempts, BackupPolicy(6, False))
	assert (database_only.last_success, database_only.failed_attempts) == (NOW - timedelta(hours=2), 1)
	running = site_state("a.test", None, [Attempt(NOW, succeeded=False, in_progress=True)], DEFAULT)
	assert running.in_progress and running.failed_attempts == 0


def test_bad_policies_are_refused_with_a_message_for_the_admin():
	with pytest.raises(ConfigurationError, match="at least 1 hour"):
		BackupPolicy(interval_hours=0)
	with pytest.raises(ConfigurationError, match="retry delay"):
		RetryPolicy(timedelta(hours=2), timedelta(hours=1))
