"""A customer's new site with Lago billing: pay first (Lago's checkout), then the site; and its progress.

`press.api.site.new` (the dashboard's "Create site") comes here. For a plan Lago charges up front and a
team with no payment method on file in Lago, the site's name is reserved in a Lago Subscription
(Pending Payment, with what the customer chose), Lago gets the customer and the subscription, and the
customer is sent to Lago's checkout; the site is created by the lifecycle when Lago's payment webhook
arrives (billing.jobs.provision). Any other plan or team goes straight to Press's own site creation.
The record's name is the site's, so a second click finds the first reservation instead of a second one.
"""

import json
from contextlib import suppress
from urllib.parse import quote

import frappe
from frappe import _
from press.api import site as press_site_api
from press.press.doctype.site.site import Site
from press.utils import get_current_team

from press_selfhost.billing.jobs import (
	SUBSCRIPTION,
	advance,
	ensure_lago_customer,
	lago_enabled,
	lago_gateway,
)
from press_selfhost.billing.lifecycle import ProvisioningRetried, Tenant, TenantState
from press_selfhost.billing.plans import offered_to, pay_first
from press_selfhost.errors import ServiceRejectedError, ServiceUnavailableError
from press_selfhost.sites.progress import JobFacts, SiteFacts, progress

PROGRESS_ROUTE = "/site-progress"
SITE_JOBS = ("New Site", "New Site from Backup", "Add Site to Upstream")


class SiteRequestError(frappe.ValidationError):
	http_status_code = 400


class PaymentUnavailableError(frappe.ValidationError):
	http_status_code = 503


class PaymentRequired(frappe.ValidationError):
	"""Not a failure: the site waits for its payment. The dashboard shows this message (as HTML) under
	"Create site", with the link to Lago's checkout; Press's dashboard has no other way to leave for it."""

	http_status_code = 402


def request_site(site: dict) -> dict:
	"""Create the site now, or reserve it and answer where to pay: {site, job} or {site, checkout_url}."""
	if not lago_enabled():
		return press_site_api.new(site)
	team = get_current_team(get_doc=True)
	if not team.enabled:
		frappe.throw(
			_("You cannot create a new site because your account is disabled"), frappe.PermissionError
		)
	site = dict(site, domain=frappe.db.get_single_value("Press Settings", "domain"))
	name = _validated_name(site)
	plan_code = _offered_plan_code(site.get("plan"))
	gateway = lago_gateway()
	with _payment_errors():
		plan = gateway.plan(plan_code)
		must_pay = pay_first(plan, gateway.has_payment_method(team.name))
	if not must_pay:
		# Free, trial, paid at the end of the period, or a card on file: Press creates the site, and the
		# Site Plan Change makes its Lago subscription (billing.jobs.on_site_plan_change).
		return press_site_api._new(site, ignore_plan_validation=True)
	return _reserve_and_checkout(team.name, name, site, plan_code)


def _validated_name(site: dict) -> str:
	subdomain = str(site.get("name") or "").strip()
	probe = frappe.new_doc("Site")
	probe.subdomain = subdomain
	probe.validate_site_name()  # Press's own rules and messages
	if Site.exists(subdomain, site["domain"]):
		frappe.throw(_("{0} is already taken. Choose another name.").format(subdomain), SiteRequestError)
	return f"{subdomain}.{site['domain']}"


def _offered_plan_code(plan: str | None) -> str:
	"""The Lago plan code of a plan this customer is offered in the dashboard; a clear 400 otherwise."""
	roles = frappe.get_all(
		"Has Role", filters={"parenttype": "Site Plan", "parent": plan or ""}, pluck="role"
	)
	enabled = plan and frappe.db.get_value("Site Plan", plan, "enabled")
	if not enabled or not offered_to({plan: roles}, frappe.get_roles()):
		frappe.throw(_("This plan is not available. Choose one of the plans shown."), SiteRequestError)
	code = frappe.db.get_value("Lago Plan Map", {"site_plan": plan}, "lago_plan_code")
	if not code:
		frappe.log_error(title=f"Site Plan {plan} is offered but not in Lago Plan Map", defer_insert=True)
		frappe.throw(_("This plan cannot be bought yet. Choose another plan."), SiteRequestError)
	return code


def _reserve_and_checkout(team: str, name: str, site: dict, plan_code: str) -> dict:
	reserved = frappe.db.get_value(SUBSCRIPTION, name, ["team", "tenant_state"], as_dict=True)
	if reserved and (reserved.team != team or reserved.tenant_state != TenantState.PENDING_PAYMENT.value):
		frappe.throw(_("{0} is already taken. Choose another name.").format(name), SiteRequestError)
	if not reserved:
		record = frappe.get_doc(
			{
				"doctype": SUBSCRIPTION,
				"external_subscription_id": name,
				"team": team,
				"external_customer_id": team,
				"site_request": json.dumps(
					{key: site.get(key) for key in ("group", "cluster", "apps", "plan")}, sort_keys=True
				),
			}
		)
		record.set_tenant(Tenant(TenantState.PENDING_PAYMENT, plan_code))
		with suppress(frappe.DuplicateEntryError):  # the same click, twice at once: the first one reserved it
			record.insert(ignore_permissions=True)
	gateway = lago_gateway()
	with _payment_errors():
		ensure_lago_customer(team)
		gateway.create_subscription(team, name, plan_code)  # the same plan again changes nothing
		checkout_url = gateway.checkout_url(team)
	if not checkout_url:
		frappe.log_error(title="Lago has no payment provider linked: customers cannot pay", defer_insert=True)
		frappe.throw(
			_(
				"Payments are not set up yet; the platform's administrators have been told. Nothing was charged."
			),
			PaymentUnavailableError,
		)
	return {"site": name, "checkout_url": checkout_url, "progress_url": progress_url(name)}


class _payment_errors:
	"""Lago down or refusing: a clear message to the customer, the cause to the admin, nothing kept."""

	def __enter__(self):
		return self

	def __exit__(self, kind, error, traceback):
		if isinstance(error, ServiceUnavailableError | ServiceRejectedError):
			frappe.log_error(title="Lago at a new site's checkout", defer_insert=True)
			frappe.throw(
				_(
					"Payment is not available right now. Nothing was charged or created; try again in a few minutes."
				),
				PaymentUnavailableError,
			)
		return False


def payment_required_message(answer: dict) -> str:
	"""The dashboard's New Site page shows a refused request's message as HTML under its button."""
	return _(
		'Your site {0} is reserved. <a href="{1}">Continue to payment</a>; it is created as soon as the '
		'payment arrives (<a href="{2}">follow it here</a>).'
	).format(
		frappe.utils.escape_html(answer["site"]),
		frappe.utils.escape_html(answer["checkout_url"]),
		frappe.utils.escape_html(answer["progress_url"]),
	)


def progress_url(site: str) -> str:
	return f"{PROGRESS_ROUTE}?site={quote(site)}"


# -- progress -------------------------------------------------------------------------------------
def site_progress(site: str | None) -> dict:
	"""The customer's view of one of its sites (the latest when none is named); 404 for anyone else's."""
	name = _own_site(site)
	return _progress(name).as_dict()


def retry(site: str) -> dict:
	"""The way on from a stop: pay (again) through Lago's checkout, or build again what failed."""
	name = _own_site(site)
	current = _progress(name)
	if current.action and current.action.value == "pay":
		team = frappe.db.get_value(SUBSCRIPTION, name, "team") or frappe.db.get_value("Site", name, "team")
		with _payment_errors():
			checkout_url = lago_gateway().checkout_url(team)
		if not checkout_url:
			frappe.throw(
				_("Payments are not set up yet; the administrators have been told."), PaymentUnavailableError
			)
		return {"checkout_url": checkout_url}
	if not (current.action and current.action.value == "retry"):
		frappe.throw(_("There is nothing to retry: {0}").format(current.title), SiteRequestError)
	if not frappe.db.exists("Site", name):
		advance(name, ProvisioningRetried())
		return {"retried": True}
	return {"retried": _resend_undelivered_jobs(name)}


def _resend_undelivered_jobs(site: str) -> bool:
	"""Jobs that never reached an Agent are sent again (Press's AgentJob.retry); a job the Agent ran and
	failed may have left half a site behind, which an administrator must look at first."""
	jobs = frappe.get_all(
		"Agent Job",
		filters={"site": site, "job_type": ("in", SITE_JOBS), "status": "Delivery Failure"},
		pluck="name",
	)
	for job in jobs:
		frappe.get_doc("Agent Job", job).retry()
	if jobs:
		frappe.db.set_value("Site", site, "status", "Pending")
		return True
	frappe.log_error(title=f"Site {site} failed to build; its customer asked to retry", defer_insert=True)
	frappe.throw(
		_(
			"The server could not build this site. The administrators have been told and will get back to you."
		),
		SiteRequestError,
	)
	return False


def _own_site(site: str | None) -> str:
	"""The site asked for if it is the caller's team's (the team's latest when none is named)."""
	user = frappe.session.user
	teams = _teams_of(user)
	if not site:
		latest = frappe.get_all(
			SUBSCRIPTION, filters={"team": ("in", teams)}, pluck="name", order_by="creation desc", limit=1
		) or frappe.get_all(
			"Site", filters={"team": ("in", teams)}, pluck="name", order_by="creation desc", limit=1
		)
		site = latest[0] if latest else ""
	team = frappe.db.get_value("Site", site, "team") or frappe.db.get_value(SUBSCRIPTION, site, "team")
	if not team or (team not in teams and "System Manager" not in frappe.get_roles(user)):
		frappe.throw(_("No such site."), frappe.DoesNotExistError)
	return site


def _teams_of(user: str) -> list[str]:
	owned = frappe.get_all("Team", filters={"user": user, "enabled": 1}, pluck="name")
	member = frappe.get_all("Team Member", filters={"parenttype": "Team", "user": user}, pluck="parent")
	return sorted(set(owned) | set(member)) or [""]


def _progress(site: str):
	tenant = frappe.db.get_value(SUBSCRIPTION, site, ["tenant_state", "payment_failed_at"], as_dict=True)
	site_doc = frappe.db.get_value("Site", site, ["status", "host_name"], as_dict=True)
	jobs = []
	if site_doc:
		for job in frappe.get_all(
			"Agent Job",
			filters={"site": site, "job_type": ("in", SITE_JOBS)},
			fields=["name", "job_type", "status"],
			order_by="creation desc",
		):
			if any(known.job_type == job.job_type for known in jobs):
				continue  # an older attempt of a job that was retried
			steps = frappe.get_all(
				"Agent Job Step",
				filters={"agent_job": job.name},
				fields=["step_name", "status"],
				order_by="creation asc",
			)
			jobs.append(JobFacts(job.job_type, job.status, [(s.step_name, s.status) for s in steps]))
	answer = progress(
		SiteFacts(
			site=site,
			tenant_state=tenant.tenant_state if tenant else None,
			payment_failed=bool(tenant and tenant.payment_failed_at),
			site_status=site_doc.status if site_doc else None,
			jobs=jobs,
			site_url=f"https://{(site_doc.host_name if site_doc else None) or site}",
		)
	)
	if answer is None:
		frappe.throw(_("No such site."), frappe.DoesNotExistError)
	return answer
