"""Background jobs (Frappe shell) that keep Press and Lago in step.

Lago → Press: a Lago Webhook Event becomes lifecycle events (press_selfhost.billing.lifecycle), whose
commands are carried out through Press's own Site methods. Each executor checks the site first, so
running a command twice does no harm; a tenant's new state is saved only after its commands ran, so
a failure leaves the state as it was and the inbox's retry recomputes the same commands.
Press → Lago: customers, subscriptions and daily usage, from doc_events and the scheduler.
"""

import json
from dataclasses import asdict
from datetime import timedelta

import frappe
from frappe import _
from frappe.utils import add_days, get_datetime, now_datetime, nowdate

from press_selfhost.backups import shipper
from press_selfhost.billing import lifecycle
from press_selfhost.billing.lago import (
	LagoGateway,
	LagoWebhook,
	UsageRecord,
	lago_plan_code,
	sites_per_team,
	team_of_subscription,
)
from press_selfhost.billing.lifecycle import (
	Archive,
	ChangePlan,
	FinalBackupThenArchive,
	Notify,
	Provision,
	Resume,
	Suspend,
	Tenant,
	TenantState,
)
from press_selfhost.errors import ConfigurationError, ServiceError
from press_selfhost.mail.context import completed_context

SUBSCRIPTION = "Lago Subscription"
_gateways: dict[tuple[str, str], LagoGateway] = {}


def lago_gateway() -> LagoGateway:
	"""One gateway per Lago URL and key in this process, so Lago's public key is fetched once."""
	settings = frappe.get_cached_doc("Selfhost Settings")
	key = (settings.lago_api_url or "", settings.get_password("lago_api_key", raise_exception=False) or "")
	if key not in _gateways:
		_gateways[key] = LagoGateway(*key)
	return _gateways[key]


def lago_enabled() -> bool:
	return bool(frappe.db.get_single_value("Selfhost Settings", "lago_api_url"))


# -- Lago → Press -----------------------------------------------------------------------------
def process_lago_event(event_name: str) -> list[dict] | None:
	"""The inbox's processor for Lago: None when the event concerns no site."""
	event = frappe.get_doc("Webhook Event", event_name)
	payload = json.loads(event.payload)
	webhook = LagoWebhook(
		payload["webhook_type"],
		payload["object_type"],
		event.unique_key,
		payload.get(payload["object_type"]) or {},
		payload,
	)
	routed = lifecycle.lago_event(webhook, received_at=get_datetime(event.creation))
	if routed is None:
		return None
	names = _tenants_concerned(routed)
	if not names:
		return None
	issued = []
	for name in names:
		issued += [{"subscription": name, **command} for command in advance(name, routed.event)]
	return issued


def _tenants_concerned(routed: lifecycle.Routed) -> list[str]:
	if routed.external_subscription_id:
		name = routed.external_subscription_id
		if not frappe.db.exists(SUBSCRIPTION, name) and isinstance(
			routed.event, lifecycle.SubscriptionStarted
		):
			_new_tenant(name, routed.external_customer_id)
		return [name] if frappe.db.exists(SUBSCRIPTION, name) else []
	return frappe.get_all(
		SUBSCRIPTION,
		filters={"external_customer_id": routed.external_customer_id, "tenant_state": ("!=", "Archived")},
		pluck="name",
		order_by="creation asc",
	)


def _new_tenant(site_name: str, team: str | None) -> None:
	"""A subscription started in Lago for a site that does not exist yet: it waits for payment."""
	if not team or not frappe.db.exists("Team", team):
		raise ConfigurationError(
			f"Lago subscription {site_name} belongs to customer {team!r}, which is not a Press Team: "
			"create Lago customers from Press (their external id is the Team's name)."
		)
	frappe.get_doc(
		{
			"doctype": SUBSCRIPTION,
			"external_subscription_id": site_name,
			"team": team,
			"external_customer_id": team,
		}
	).insert(ignore_permissions=True)


def advance(subscription_name: str, event: lifecycle.Event) -> list[dict]:
	"""Apply one lifecycle event to one tenant: carry out its commands, then save its new state."""
	record = frappe.get_doc(SUBSCRIPTION, subscription_name, for_update=True)
	grace_days = frappe.db.get_single_value("Selfhost Settings", "lago_payment_grace_days")
	before = record.tenant()
	result = lifecycle.transition(
		before, event, grace_period=timedelta(days=3 if grace_days is None else int(grace_days))
	)
	for command in result.commands:
		EXECUTORS[type(command)](record, command)
	if result.tenant != before:  # Provision also sets record.site, and always changes the state
		record.set_tenant(result.tenant)
		record.save(ignore_permissions=True)
	frappe.db.commit()
	return [{"command": type(command).__name__, **asdict(command)} for command in result.commands]


def advance_tenants() -> None:
	"""Scheduled: feed the lifecycle what only time and Press can tell (site ready or broken, grace expired)."""
	now = now_datetime()
	fields = ["name", "tenant_state", "external_subscription_id"]
	due = [
		*frappe.get_all(SUBSCRIPTION, filters={"tenant_state": "Provisioning"}, fields=fields, as_list=True),
		# only a tenant with an unpaid failure can reach the end of its grace period
		*frappe.get_all(
			SUBSCRIPTION,
			filters={"tenant_state": "Active", "payment_failed_at": ("is", "set")},
			fields=fields,
			as_list=True,
		),
	]
	for name, state, site_name in due:
		if state == "Active":
			event = lifecycle.GracePeriodChecked(now)
		else:
			status = frappe.db.get_value("Site", site_name, "status")
			if status == "Active":
				event = lifecycle.ProvisioningSucceeded()
			elif status == "Broken":
				event = lifecycle.ProvisioningFailed("Press marked the site Broken; see its Agent Jobs")
			else:
				continue
		try:
			advance(name, event)
		except Exception:
			frappe.db.rollback()
			frappe.log_error(title=f"Lago lifecycle: {name}")


# -- executors: each checks the site first, so a retried command is harmless ----------------------
def provision(record, command: Provision) -> None:
	if frappe.db.exists("Site", record.external_subscription_id):
		return
	subdomain, _, domain = record.external_subscription_id.partition(".")
	plan = _press_plan(command.plan_code)
	# What the customer chose in the dashboard, when the site was asked for there (sites/new_site.py).
	chosen = json.loads(record.site_request) if record.get("site_request") else {}
	group = chosen.get("group") or frappe.get_cached_doc("Selfhost Settings").get(
		"lago_default_release_group"
	)
	if not group:
		raise ConfigurationError(
			"Lago: set Lago Default Release Group in Selfhost Settings: the bench group new sites go to."
		)
	site = frappe.get_doc(
		{
			"doctype": "Site",
			"subdomain": subdomain,
			"domain": domain,
			"cluster": chosen.get("cluster") or frappe.db.get_value("Root Domain", domain, "default_cluster"),
			"group": group,
			"team": record.team,
			"free": 1,  # Lago bills this site: Press must not
			"apps": [{"app": app} for app in chosen.get("apps") or ["frappe"]],
		}
	)
	site.subscription_plan = plan  # not a field: Press reads it to make the Site Plan Change
	site.insert(ignore_permissions=True)
	record.site = site.name


def suspend(record, command: Suspend) -> None:
	site = _site(record)
	if site.status != "Suspended":
		site.suspend(reason=f"Lago: {command.reason}")


def resume(record, command: Resume) -> None:
	site = _site(record)
	if site.status == "Suspended":
		site.unsuspend(reason=f"Lago: {command.reason}")


def change_plan(record, command: ChangePlan) -> None:
	if not frappe.db.exists("Site", record.external_subscription_id):
		return  # not created yet: Provision uses the tenant's current plan
	site = _site(record)
	plan = _press_plan(command.plan_code)
	if site.plan != plan:
		site.change_plan(plan, ignore_card_setup=True)


def final_backup_then_archive(record, command: FinalBackupThenArchive) -> None:
	"""Archive once a backup taken after the termination is in MinIO; until then, retry.

	Press takes the backup without offsite upload: the stock Agent's own upload goes with boto3 to AWS,
	never MinIO, and deletes the local files when it fails. The backup shipper then takes it to MinIO
	and marks it offsite; it is asked right away, and its */10 scheduler retries a failed shipment.
	Archiving deletes the site from the bench, so it waits for that mark: each call until then raises
	FinalBackupPending and the inbox retries with backoff; a failed backup is taken again.
	"""
	site = _site(record)
	if site.status == "Archived":
		return
	shipper.backup_configuration()  # no MinIO or no key: a setting to fix, not a retry
	backup = frappe.get_all(
		"Site Backup",
		filters={
			"site": site.name,
			"with_files": 1,
			"status": ("!=", "Failure"),
			"creation": (">=", add_days(now_datetime(), -1)),
		},
		fields=["name", "status", "offsite"],
		order_by="creation desc",
		limit=1,
	)
	if not backup:
		site.backup(with_files=True, offsite=False, force=True)
		frappe.db.commit()  # the inbox rolls back what a raising processor did
	elif backup[0].status == "Success" and not backup[0].offsite:
		shipper.enqueue_shipment(backup[0].name)
	if not backup or not backup[0].offsite:
		raise FinalBackupPending(
			f"final backup of {site.name} is not in MinIO yet; archiving after it is shipped"
		)
	site.archive(reason="Lago subscription terminated")


def archive(record, command: Archive) -> None:
	if frappe.db.exists("Site", record.external_subscription_id):
		site = _site(record)
		if site.status != "Archived":
			site.archive(reason="Lago subscription terminated")


def notify(record, command: Notify) -> None:
	"""Mail the team; what the webhook did not say about the invoice is asked from Lago first."""
	from press_selfhost.mail.send import send_template_mail

	team = frappe.db.get_value("Team", record.team, ["notify_email", "user"], as_dict=True) or {}
	recipient = team.get("notify_email") or team.get("user")
	if recipient:
		context = {"site": record.external_subscription_id, "team": record.team, **command.context}
		send_template_mail(
			command.template, recipient, completed_context(command.template, context, lago_gateway)
		)


class FinalBackupPending(Exception):
	"""Not an error: the inbox retries the event with backoff until the backup is done."""


EXECUTORS = {
	Provision: provision,
	Suspend: suspend,
	Resume: resume,
	ChangePlan: change_plan,
	FinalBackupThenArchive: final_backup_then_archive,
	Archive: archive,
	Notify: notify,
}


def _site(record):
	return frappe.get_doc("Site", record.site or record.external_subscription_id)


def _plan_map() -> dict[str, str]:
	return dict(frappe.get_all("Lago Plan Map", fields=["site_plan", "lago_plan_code"], as_list=True))


def _press_plan(plan_code: str | None) -> str:
	by_code = {code: plan for plan, code in _plan_map().items()}
	if plan_code not in by_code:
		raise ConfigurationError(
			f"Lago plan {plan_code!r} is not in Lago Plan Map: map it to a Press Site Plan."
		)
	return by_code[plan_code]


# -- Press → Lago ---------------------------------------------------------------------------------
def on_team_created(team, method=None) -> None:
	"""doc_event Team.after_insert: Lago bills the team, so Press must not; create its Lago customer."""
	if not lago_enabled():
		return
	team.db_set("free_account", 1)  # on the document too, in case Press saves it again
	frappe.enqueue(
		"press_selfhost.billing.jobs.ensure_lago_customer", team=team.name, enqueue_after_commit=True
	)


def ensure_lago_customer(team: str) -> None:
	fields = frappe.db.get_value(
		"Team", team, ["user", "notify_email", "currency", "billing_name", "team_title"], as_dict=True
	)
	lago_gateway().ensure_customer(
		team,
		name=fields.billing_name or fields.team_title or fields.user,
		email=fields.notify_email or fields.user,
		currency=fields.currency,
	)


class PlanChangeScheduled(frappe.ValidationError):
	"""Lago moves a downgrade to the end of the billing period; Press's plan waits with it."""

	http_status_code = 409


def before_site_plan_change(plan_change, method=None) -> None:
	"""doc_event Site Plan Change.before_insert: a Lago-billed site changes plan in Lago first, so Press's
	plan never runs ahead of the plan Lago bills.

	An upgrade applies at once in both. A downgrade Lago keeps for the period's end: the change is
	refused here with that message, and Lago's webhooks for the new plan change the site then
	(PlanChanged → ChangePlan, which finds Lago already on that plan and asks nothing).
	"""
	site = plan_change.site
	if not lago_enabled() or not frappe.db.exists(SUBSCRIPTION, site):
		return  # a new site: its subscription is created after the insert (sync_lago_subscription)
	plan_code = lago_plan_code(plan_change.to_plan, _plan_map())
	if frappe.db.get_value(SUBSCRIPTION, site, "plan_code") == plan_code:
		return
	team = frappe.db.get_value("Site", site, "team")
	try:
		answer = lago_gateway().change_plan(team, site, plan_code)
	except ServiceError:
		frappe.log_error(title=f"Lago: plan change of {site}")
		frappe.throw(
			_(
				"Billing is unavailable right now, so the plan was not changed. Please try again in a few minutes."
			),
			frappe.ValidationError,
		)
	billed = lifecycle.plan_billed_after_change(plan_code, answer.plan_code, answer.next_plan_code)
	if billed != plan_code:
		frappe.throw(
			_(
				"Your plan changes to {0} at the end of the current billing period; until then {1} keeps its plan."
			).format(plan_change.to_plan, site),
			PlanChangeScheduled,
		)
	frappe.db.set_value(SUBSCRIPTION, site, "plan_code", plan_code)


def on_site_plan_change(plan_change, method=None) -> None:
	"""doc_event Site Plan Change.after_insert: a site Press created outside Lago gets its Lago
	subscription (a Lago-billed site's plan changes went to Lago before the insert)."""
	if lago_enabled() and not frappe.db.exists(SUBSCRIPTION, plan_change.site):
		frappe.enqueue(
			"press_selfhost.billing.jobs.sync_lago_subscription",
			site=plan_change.site,
			plan=plan_change.to_plan,
			enqueue_after_commit=True,
		)


def sync_lago_subscription(site: str, plan: str) -> None:
	"""Bill a site created in Press (not from a Lago subscription) from now on."""
	if frappe.db.exists(SUBSCRIPTION, site):
		return
	plan_code = lago_plan_code(plan, _plan_map())
	team = frappe.db.get_value("Site", site, "team")
	frappe.db.set_value("Site", site, "free", 1)
	ensure_lago_customer(team)
	lago_gateway().create_subscription(team, site, plan_code)
	record = frappe.get_doc(
		{
			"doctype": SUBSCRIPTION,
			"external_subscription_id": site,
			"site": site,
			"team": team,
			"external_customer_id": team,
		}
	)
	record.set_tenant(Tenant(TenantState.PROVISIONING, plan_code))
	record.insert(ignore_permissions=True)


def report_usage() -> None:
	"""Scheduled daily: yesterday's usage. Per site: database and file sizes (MB, Press's last Site
	Usage) and CPU use (percent of its plan's daily allowance). Per team, when Lago Team Plan is set:
	how many Lago-billed sites it has, on the team's platform subscription (created on first use)."""
	period = str(add_days(nowdate(), -1))
	timestamp = int(get_datetime(period).timestamp())
	tenants = frappe.get_all(
		SUBSCRIPTION,
		filters={"tenant_state": ("in", ["Active", "Suspended"])},
		fields=["external_subscription_id", "team"],
		as_list=True,
	)
	records = []
	for site, _team in tenants:
		usage = frappe.get_all(
			"Site Usage",
			filters={"site": site},
			fields=["database", "public", "private"],
			order_by="creation desc",
			limit=1,
		)
		if not usage:
			continue
		measured = {
			"press_database_mb": usage[0].database or 0,
			"press_disk_mb": (usage[0].public or 0) + (usage[0].private or 0),
			"press_cpu_percent": frappe.db.get_value("Site", site, "current_cpu_usage") or 0,
		}
		records += [
			UsageRecord(site, metric, period, {"value": value}, timestamp)
			for metric, value in measured.items()
		]
	gateway = lago_gateway()
	gateway.send_usage(records)
	team_plan = frappe.db.get_single_value("Selfhost Settings", "lago_team_plan_code")
	if team_plan:  # after the sites' usage, which a wrong team plan must not hold back
		team_records = sites_per_team(tenants, period, timestamp)
		for record in team_records:
			gateway.create_subscription(
				team_of_subscription(record.subscription), record.subscription, team_plan
			)
		gateway.send_usage(team_records)
