"""What a team sees of its Lago billing in the dashboard: invoices, their PDFs, where to pay.

Framework-free: the Frappe shell (press_selfhost.api.billing) decides which team the user may see and
passes it in with a LagoGateway. Everything returned is the team's own and safe to show; Lago's
failures become CustomerFacingErrors whose messages say what to do, never what went wrong inside.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from press_selfhost.billing.format import describe_period, format_money
from press_selfhost.billing.lago import LagoGateway, LagoInvoice
from press_selfhost.errors import CustomerFacingError, ServiceRejectedError, ServiceUnavailableError

MAX_PER_PAGE = 100
LAGO_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
UNAVAILABLE = "Billing is unavailable right now. Please try again in a few minutes."
NOT_SET_UP = "Billing is not set up for this team yet. Please contact support."
NOT_FOUND = "No such invoice for this team."
# Invoices that bill a subscription's period; add-ons, credits and one-offs bill none.
PERIOD_INVOICE_TYPES = frozenset(("subscription", "progressive_billing"))


def checkout_url(gateway: LagoGateway, team: str) -> dict:
	"""The payment provider's page where the team adds or replaces its payment method."""
	with _for_customer():
		url = gateway.checkout_url(team)
	if not url:
		raise CustomerFacingError(
			"Payments are not enabled for this team yet. Please contact support.", http_status=409
		)
	return {"checkout_url": url}


def invoices(gateway: LagoGateway, team: str, page: object = 1, per_page: object = 20) -> dict:
	"""One page of the team's invoices, newest first, with what a list needs to show and link.

	Lago's list has no billing periods: each invoice that bills a period is read once more, so a page
	costs at most MAX_PER_PAGE extra calls.
	"""
	page, per_page = _positive(page, "page"), min(_positive(per_page, "per_page"), MAX_PER_PAGE)
	with _for_customer():
		found = gateway.invoices(team, page=page, per_page=per_page)
		listed = [
			gateway.invoice(invoice.lago_id) if invoice.invoice_type in PERIOD_INVOICE_TYPES else invoice
			for invoice in found.invoices
		]
	return {
		"invoices": [invoice_row(invoice) for invoice in listed],
		"page": found.page,
		"per_page": per_page,
		"total_pages": found.total_pages,
		"total_count": found.total_count,
	}


def invoice_pdf_url(gateway: LagoGateway, team: str, invoice: str) -> dict:
	"""The PDF of one of the team's invoices; `pdf_url` is None while Lago is still generating it."""
	_own_invoice(gateway, team, invoice)
	with _for_customer():
		url = gateway.invoice_pdf_url(invoice)
	return {"invoice": invoice, "pdf_url": url, "ready": bool(url)}


def invoice_payment_url(gateway: LagoGateway, team: str, invoice: str) -> dict:
	"""Where to pay one of the team's invoices; None when there is nothing to pay or no provider."""
	_own_invoice(gateway, team, invoice)
	with _for_customer():
		return {"invoice": invoice, "payment_url": gateway.invoice_payment_url(invoice)}


def invoice_row(invoice: LagoInvoice) -> dict:
	return {
		"name": invoice.lago_id,
		"number": invoice.number,
		"status": invoice.status,
		"payment_status": invoice.payment_status,
		"issuing_date": invoice.issuing_date,
		"period": describe_period(invoice.period, invoice.issuing_date),
		"currency": invoice.currency,
		"total_amount_cents": invoice.total_amount_cents,
		"formatted_total": format_money(invoice.total_amount_cents, invoice.currency),
		"pdf_url": invoice.file_url,
	}


def _own_invoice(gateway: LagoGateway, team: str, invoice: str) -> LagoInvoice:
	"""The invoice if the team is its customer; another team's answers exactly as a missing one."""
	if not isinstance(invoice, str) or not LAGO_ID.fullmatch(invoice):
		raise CustomerFacingError(NOT_FOUND, http_status=404)  # and nothing else reaches Lago's URL
	with _for_customer(missing=(NOT_FOUND, 404)):
		found = gateway.invoice(invoice)
	if found.external_customer_id != team:
		raise CustomerFacingError(NOT_FOUND, http_status=404)
	return found


def _positive(value: object, name: str) -> int:
	try:
		number = int(value)  # whitelisted arguments arrive as strings
	except (TypeError, ValueError):
		number = 0
	if number < 1:
		raise CustomerFacingError(f"{name} must be a positive whole number.", http_status=400)
	return number


@contextmanager
def _for_customer(missing: tuple[str, int] = (NOT_SET_UP, 409)) -> Iterator[None]:
	"""Lago down or overloaded: try later. Lago does not know the team or invoice: say so. Any other
	refusal is ours to fix (a setting, a version): the admin sees it, the customer is told to wait."""
	try:
		yield
	except ServiceUnavailableError as error:
		raise CustomerFacingError(UNAVAILABLE, http_status=503) from error
	except ServiceRejectedError as error:
		if error.status_code == 404:
			raise CustomerFacingError(*missing) from error
		raise CustomerFacingError(UNAVAILABLE, http_status=503) from error
