"""A new site's progress in the customer's words: from "waiting for payment" to "ready".

Framework-free. The shell reads the facts (the tenant's Lago state, Press's Site status, the Agent Jobs
that build the site and their steps) and this module says what the customer sees and may do next:
pay (again), retry, or open the site.
"""

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

# Press's "New Site" Agent Job Type steps (press/fixtures/agent_job_type.json), as a customer reads them.
STEP_TITLES = {
	"New Site": "Creating the database and the site",
	"Install Apps": "Installing the apps",
	"Update Site Configuration": "Configuring the site",
	"Enable Scheduler": "Starting background jobs",
	"Create User": "Creating your user",
	"Bench Setup NGINX": "Preparing the web server",
	"Reload NGINX": "Putting the site online",
	"Add Site File to Upstream Directory": "Routing the address to the site",
	# a site restored from a backup
	"Download Backup Files": "Downloading the backup",
	"Restore Site": "Restoring the data",
	"Delete Downloaded Backup Files": "Cleaning up the backup files",
	"Uninstall Unavailable Apps": "Removing apps this platform does not offer",
	"Migrate Site": "Updating the database",
	"Set Administrator Password": "Setting the administrator's password",
}
NEW_SITE_JOBS = ("New Site", "New Site from Backup")
ROUTE_JOB = "Add Site to Upstream"
FAILED_JOB_STATUSES = ("Failure", "Delivery Failure")


class Stage(enum.Enum):
	WAITING_FOR_PAYMENT = "waiting_for_payment"
	PAYMENT_FAILED = "payment_failed"
	QUEUED = "queued"
	BUILDING = "building"
	READY = "ready"
	FAILED = "failed"
	SUSPENDED = "suspended"
	ARCHIVED = "archived"


class Action(enum.Enum):
	PAY = "pay"
	RETRY = "retry"
	OPEN = "open"


@dataclass(frozen=True)
class JobFacts:
	"""One Agent Job of the site (Press's Agent Job and its Agent Job Steps, in order)."""

	job_type: str
	status: str
	steps: Sequence[tuple[str, str]] = ()  # (step_name, status)


@dataclass(frozen=True)
class SiteFacts:
	site: str
	tenant_state: str | None = None  # Lago Subscription.tenant_state; None when Lago does not bill it
	payment_failed: bool = False
	site_status: str | None = None  # Press Site.status; None before the site is inserted
	jobs: Sequence[JobFacts] = ()
	site_url: str | None = None


@dataclass(frozen=True)
class Progress:
	site: str
	stage: Stage
	title: str
	message: str
	steps: list[dict] = field(default_factory=list)
	action: Action | None = None
	site_url: str | None = None

	@property
	def finished(self) -> bool:
		"""Nothing will change without the customer (or an admin): the page stops polling."""
		return self.stage not in (Stage.QUEUED, Stage.BUILDING, Stage.WAITING_FOR_PAYMENT)

	def as_dict(self) -> dict:
		return {
			"site": self.site,
			"state": self.stage.value,
			"title": self.title,
			"message": self.message,
			"steps": self.steps,
			"action": self.action.value if self.action else None,
			"site_url": self.site_url if self.stage is Stage.READY else None,
			"finished": self.finished,
		}


def progress(facts: SiteFacts) -> Progress | None:
	"""What the customer sees of this site, or None when there is nothing to show (no site, no tenant)."""
	site, status = facts.site, facts.site_status
	steps = _steps(facts.jobs)
	if status == "Active":
		return Progress(
			site, Stage.READY, "Your site is ready", f"{site} is up.", steps, Action.OPEN, facts.site_url
		)
	if status == "Suspended":
		return Progress(
			site,
			Stage.SUSPENDED,
			"Your site is suspended",
			"An invoice is unpaid. Pay it from Billing and the site comes back within minutes.",
			steps,
			Action.PAY,
		)
	if status == "Archived" or facts.tenant_state == "Archived":
		return Progress(site, Stage.ARCHIVED, "This site was deleted", "Its subscription has ended.", steps)
	failed_job = next((job for job in facts.jobs if job.status in FAILED_JOB_STATUSES), None)
	if status == "Broken" or failed_job or facts.tenant_state == "Failed":
		return Progress(
			site,
			Stage.FAILED,
			"We could not create your site",
			_failure_message(failed_job),
			steps,
			Action.RETRY,
		)
	if status is not None:
		return _building(facts, steps)
	if facts.tenant_state == "Pending Payment":
		if facts.payment_failed:
			return Progress(
				site,
				Stage.PAYMENT_FAILED,
				"Your payment did not go through",
				"Nothing was created. Pay again (another card works too) and the site is built right after.",
				action=Action.PAY,
			)
		return Progress(
			site,
			Stage.WAITING_FOR_PAYMENT,
			"Waiting for your payment",
			"Your site's name is reserved. As soon as the payment arrives, the site is built.",
			action=Action.PAY,
		)
	if facts.tenant_state == "Provisioning":
		return Progress(site, Stage.QUEUED, "Payment received", "Your site is about to be built.")
	return None


def _building(facts: SiteFacts, steps: list[dict]) -> Progress:
	done = sum(1 for step in steps if step["status"] in ("Success", "Skipped"))
	running = next((step for step in steps if step["status"] == "Running"), None)
	if running is None and done == 0:
		return Progress(
			facts.site,
			Stage.QUEUED,
			"Your site is in the queue",
			"The server starts building it in a moment.",
			steps,
		)
	current = running or next((step for step in steps if step["status"] == "Pending"), steps[-1])
	return Progress(
		facts.site,
		Stage.BUILDING,
		"Building your site",
		f"{current['title']} (step {min(done + 1, len(steps))} of {len(steps)}).",
		steps,
	)


def _steps(jobs: Sequence[JobFacts]) -> list[dict]:
	"""The building steps, the site's own job first, then its route: one list as the customer sees it."""
	ordered = [job for job in jobs if job.job_type in NEW_SITE_JOBS] + [
		job for job in jobs if job.job_type == ROUTE_JOB
	]
	return [
		{"name": name, "title": STEP_TITLES.get(name, name), "status": status}
		for job in ordered
		for name, status in job.steps
	]


def _failure_message(job: JobFacts | None) -> str:
	if job is None:
		return "Something went wrong while creating it. Retry, or write to support if it fails again."
	if job.status == "Delivery Failure":
		return "The server did not answer. Retry in a few minutes."
	failed = next((STEP_TITLES.get(name, name) for name, status in job.steps if status == "Failure"), None)
	where = f" while {failed[0].lower()}{failed[1:]}" if failed else ""
	return f"The server stopped{where}. Retry, or write to support if it fails again."
