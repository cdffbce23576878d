"""Complete a lifecycle mail's context with what only Lago's API knows, before it is rendered.

Framework-free. The lifecycle puts in a Notify what the webhook said; invoice.payment_failure names
only the invoice, and no webhook carries the link to pay it, so those come from Lago here. Lago being
down raises ServiceUnavailableError: the inbox retries the event rather than mail a hole.
"""

from collections.abc import Callable, Mapping

from press_selfhost.billing.format import describe_period, format_money
from press_selfhost.billing.lago import LagoGateway, LagoInvoice
from press_selfhost.errors import ServiceRejectedError

# The invoice variables each template needs; the others have platform defaults (mail_templates).
INVOICE_VARIABLES = {
	"payment_failed": ("invoice_number", "amount"),
	"invoice_available": ("invoice_number", "amount", "period"),
}


def completed_context(template: str, context: Mapping, lago: Callable[[], LagoGateway]) -> dict:
	"""`context` with the invoice facts `template` needs and lacks, and for payment_failed the page
	to pay a single invoice; `lago` makes the gateway, called only when Lago must be asked."""
	completed = dict(context)
	ids = [value for value in completed.get("lago_invoice_ids") or () if isinstance(value, str)]
	missing = [name for name in INVOICE_VARIABLES.get(template, ()) if name not in completed]
	if not ids or (not missing and template != "payment_failed"):
		return completed
	gateway = lago()
	if missing:
		facts = invoice_context([gateway.invoice(lago_id) for lago_id in ids])
		completed.update({name: facts[name] for name in facts if name not in completed})
	if template == "payment_failed" and "payment_url" not in completed and len(ids) == 1:
		# several invoices (a payment request) have no single payment page: the dashboard's stays
		payment_url = _payment_url(gateway, ids[0])
		if payment_url:
			completed["payment_url"] = payment_url
	return completed


def _payment_url(gateway: LagoGateway, lago_id: str) -> str | None:
	"""The invoice's payment page, or None (the dashboard's billing page) when Lago refuses it, as a
	Lago older than the payment_url endpoint does: the mail about the failure matters more."""
	try:
		return gateway.invoice_payment_url(lago_id)
	except ServiceRejectedError:
		return None


def invoice_context(invoices: list[LagoInvoice]) -> dict:
	"""The template variables of one or several invoices, as InvoiceFacts.context() names them."""
	values = {"invoice_number": ", ".join(invoice.number for invoice in invoices)}
	currencies = {invoice.currency for invoice in invoices}
	if len(currencies) == 1:
		values["amount"] = format_money(sum(i.total_amount_cents for i in invoices), currencies.pop())
	else:
		values["amount"] = ", ".join(format_money(i.total_amount_cents, i.currency) for i in invoices)
	if len(invoices) == 1:
		period = describe_period(invoices[0].period, invoices[0].issuing_date)
		if period:
			values["period"] = period
		if invoices[0].file_url:
			values["invoice_url"] = invoices[0].file_url
	return values
