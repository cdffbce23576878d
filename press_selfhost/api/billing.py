"""A team's Lago billing for the dashboard: where to add a payment method, its invoices and their PDFs.

Each method answers for one team: the `team` argument, else the dashboard's `X-Press-Team` header,
else the user's own team. A user sees only a team they own or belong to; a System Manager any team.
Press's own billing methods (press.api.billing) are left alone: see docs/billing.md.
"""

import frappe
from frappe import _
from press.utils import get_default_team_for_user

from press_selfhost.billing import invoices as team_invoices
from press_selfhost.billing.jobs import lago_gateway
from press_selfhost.errors import CustomerFacingError


class BillingRequestError(frappe.ValidationError):
	http_status_code = 400


class BillingNotSetUpError(frappe.ValidationError):
	http_status_code = 409


class BillingUnavailableError(frappe.ValidationError):
	http_status_code = 503


_EXCEPTIONS = {
	400: BillingRequestError,
	404: frappe.DoesNotExistError,
	409: BillingNotSetUpError,
	503: BillingUnavailableError,
}


@frappe.whitelist(methods=["POST"])
def checkout_url(team: str | None = None) -> dict:
	"""The payment provider's page (through Lago) where the team adds or replaces its payment method."""
	return _answer(lambda gateway, name: team_invoices.checkout_url(gateway, name), team)


@frappe.whitelist()
def invoices(team: str | None = None, page: int = 1, per_page: int = 20) -> dict:
	"""One page of the team's Lago invoices, newest first."""
	return _answer(lambda gateway, name: team_invoices.invoices(gateway, name, page, per_page), team)


@frappe.whitelist()
def invoice_pdf_url(invoice: str, team: str | None = None) -> dict:
	"""The PDF of one of the team's invoices (`ready` false: Lago is generating it, ask again soon)."""
	return _answer(lambda gateway, name: team_invoices.invoice_pdf_url(gateway, name, invoice), team)


@frappe.whitelist()
def invoice_payment_url(invoice: str, team: str | None = None) -> dict:
	"""Where to pay one of the team's invoices (`payment_url` None: nothing to pay through Lago)."""
	return _answer(lambda gateway, name: team_invoices.invoice_payment_url(gateway, name, invoice), team)


def _answer(call, team: str | None) -> dict:
	name = _billing_team(team)
	try:
		return call(lago_gateway(), name)
	except CustomerFacingError as error:
		if error.http_status == 503:
			# The admin needs the cause (Lago down, a wrong key...); the user only that it will pass.
			frappe.log_error(title=f"Lago billing for team {name}", defer_insert=True)
		frappe.throw(error.message, _EXCEPTIONS.get(error.http_status, BillingRequestError))


def _billing_team(team: str | None) -> str:
	"""The team whose billing the session user asked for, if the user may see it."""
	user = frappe.session.user
	request = getattr(frappe.local, "request", None)
	team = (
		team or (request.headers.get("X-Press-Team") if request else None) or get_default_team_for_user(user)
	)
	if not team:
		frappe.throw(_("You are not part of any team."), frappe.PermissionError)
	if "System Manager" in frappe.get_roles(user):
		if not frappe.db.exists("Team", team):
			frappe.throw(_("No such team."), frappe.DoesNotExistError)
		return team
	owner = frappe.db.get_value("Team", team, "user")
	member = frappe.db.exists("Team Member", {"parenttype": "Team", "parent": team, "user": user})
	if owner != user and not member:
		frappe.throw(_("You may only see the billing of your own team."), frappe.PermissionError)
	return team
