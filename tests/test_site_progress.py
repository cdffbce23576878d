"""What a customer sees of a new site, from "waiting for payment" to "ready" (sites/progress.py)."""

import json
from pathlib import Path

import pytest

from press_selfhost.sites.progress import STEP_TITLES, JobFacts, SiteFacts, Stage, progress

SITE = "acme.example.com"
NEW_SITE_STEPS = [
	"New Site",
	"Install Apps",
	"Update Site Configuration",
	"Enable Scheduler",
	"Create User",
	"Bench Setup NGINX",
	"Reload NGINX",
]
PRESS_JOB_TYPES = next(
	(
		folder / "shared" / "contracts" / "press-agent-job-types.json"
		for folder in Path(__file__).resolve().parents
		if (folder / "shared" / "contracts" / "press-agent-job-types.json").exists()
	),
	None,
)


def new_site_job(status: str, done: int, running: bool = True, failed: bool = False) -> JobFacts:
	steps = []
	for index, name in enumerate(NEW_SITE_STEPS):
		if index < done:
			steps.append((name, "Success"))
		elif index == done and failed:
			steps.append((name, "Failure"))
		elif index == done and running:
			steps.append((name, "Running"))
		else:
			steps.append((name, "Pending"))
	return JobFacts("New Site", status, steps)


def route_job(status: str = "Pending") -> JobFacts:
	step = "Success" if status == "Success" else "Pending"
	return JobFacts(
		"Add Site to Upstream",
		status,
		[("Add Site File to Upstream Directory", step), ("Reload NGINX", step)],
	)


def test_before_payment_the_customer_is_asked_to_pay_and_the_page_keeps_watching():
	seen = progress(SiteFacts(SITE, tenant_state="Pending Payment")).as_dict()
	assert seen["state"] == "waiting_for_payment" and seen["action"] == "pay"
	assert not seen["finished"] and seen["steps"] == [] and seen["site_url"] is None


def test_a_failed_payment_says_nothing_was_created_and_offers_to_pay_again():
	seen = progress(SiteFacts(SITE, tenant_state="Pending Payment", payment_failed=True))
	assert seen.stage is Stage.PAYMENT_FAILED and seen.action.value == "pay" and seen.finished
	assert "Nothing was created" in seen.message


def test_once_paid_the_site_is_queued_then_built_step_by_step_in_plain_words():
	assert progress(SiteFacts(SITE, tenant_state="Provisioning")).stage is Stage.QUEUED
	queued = progress(
		SiteFacts(SITE, "Provisioning", site_status="Pending", jobs=[JobFacts("New Site", "Pending")])
	)
	assert queued.stage is Stage.QUEUED and not queued.finished
	building = progress(
		SiteFacts(
			SITE, "Provisioning", site_status="Installing", jobs=[route_job(), new_site_job("Running", 1)]
		)
	)
	assert building.stage is Stage.BUILDING and not building.finished
	assert building.message == "Installing the apps (step 2 of 9)."
	assert [step["name"] for step in building.steps] == [
		*NEW_SITE_STEPS,
		"Add Site File to Upstream Directory",
		"Reload NGINX",
	]


def test_a_site_press_made_active_is_ready_with_its_link():
	seen = progress(
		SiteFacts(
			SITE,
			"Active",
			site_status="Active",
			jobs=[new_site_job("Success", 7), route_job("Success")],
			site_url=f"https://{SITE}",
		)
	).as_dict()
	assert (seen["state"], seen["action"], seen["site_url"], seen["finished"]) == (
		"ready",
		"open",
		f"https://{SITE}",
		True,
	)
	assert all(step["status"] == "Success" for step in seen["steps"])


def test_a_failed_step_is_named_and_the_customer_can_retry():
	seen = progress(
		SiteFacts(SITE, "Provisioning", site_status="Broken", jobs=[new_site_job("Failure", 1, failed=True)])
	)
	assert seen.stage is Stage.FAILED and seen.action.value == "retry" and seen.finished
	assert "while installing the apps" in seen.message


def test_an_agent_that_never_answered_says_so():
	seen = progress(SiteFacts(SITE, site_status="Pending", jobs=[JobFacts("New Site", "Delivery Failure")]))
	assert seen.stage is Stage.FAILED and "did not answer" in seen.message


def test_a_tenant_that_failed_before_its_site_existed_can_be_retried():
	seen = progress(SiteFacts(SITE, tenant_state="Failed"))
	assert seen.stage is Stage.FAILED and seen.action.value == "retry"


@pytest.mark.parametrize(
	("facts", "stage", "action"),
	[
		(SiteFacts(SITE, "Suspended", site_status="Suspended"), Stage.SUSPENDED, "pay"),
		(SiteFacts(SITE, "Archived"), Stage.ARCHIVED, None),
		(SiteFacts(SITE, None, site_status="Archived"), Stage.ARCHIVED, None),
	],
)
def test_later_states_are_named_too(facts, stage, action):
	seen = progress(facts)
	assert seen.stage is stage and (seen.action.value if seen.action else None) == action


def test_a_site_press_creates_without_lago_is_shown_from_its_jobs_alone():
	seen = progress(SiteFacts(SITE, None, site_status="Installing", jobs=[new_site_job("Running", 3)]))
	assert seen.stage is Stage.BUILDING


def test_nothing_known_is_nothing_to_show():
	assert progress(SiteFacts(SITE)) is None


@pytest.mark.skipif(PRESS_JOB_TYPES is None, reason="shared/contracts/ is beside the checkout")
def test_every_step_press_runs_to_build_a_site_has_plain_words():
	job_types = {job["name"]: job for job in json.loads(PRESS_JOB_TYPES.read_text())}
	for job_type in ("New Site", "New Site from Backup", "Add Site to Upstream"):
		for step in job_types[job_type]["steps"]:
			assert step["step_name"] in STEP_TITLES, (job_type, step["step_name"])
