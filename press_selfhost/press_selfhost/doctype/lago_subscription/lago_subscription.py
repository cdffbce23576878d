"""Lago Subscription: a site billed by Lago and its tenant state, stored between two lifecycle steps."""

from frappe.model.document import Document
from frappe.utils import get_datetime

from press_selfhost.billing.lifecycle import Tenant, TenantState


class LagoSubscription(Document):
	def tenant(self) -> Tenant:
		"""This record as the lifecycle's plain Tenant."""
		return Tenant(
			state=TenantState(self.tenant_state or TenantState.PENDING_PAYMENT.value),
			plan_code=self.plan_code or None,
			payment_failed_at=get_datetime(self.payment_failed_at) if self.payment_failed_at else None,
			last_invoice_notified=self.last_invoice_notified or None,
		)

	def set_tenant(self, tenant: Tenant) -> None:
		self.tenant_state = tenant.state.value
		self.plan_code = tenant.plan_code
		self.payment_failed_at = (
			tenant.payment_failed_at.replace(tzinfo=None) if tenant.payment_failed_at else None
		)
		self.last_invoice_notified = tenant.last_invoice_notified
