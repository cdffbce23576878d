"""Press's Team when Lago bills it (override_doctype_class "Team"): no Stripe, no Press invoices.

Press makes every new team a Stripe customer (Team.create_new → create_stripe_customer), which fails
without Stripe keys and rolls the whole sign-up back. With Lago set up, the team is a Lago customer
instead (billing.jobs.on_team_created, the Team after_insert doc_event), Press never bills it
(`free_account`), and its payment mode says so: "Lago", an option added to Press's Select field.
"""

import frappe
from frappe.custom.doctype.property_setter.property_setter import make_property_setter
from press.press.doctype.team.team import Team

from press_selfhost.billing.jobs import lago_enabled

LAGO_PAYMENT_MODE = "Lago"


class SelfhostTeam(Team):
	def before_insert(self):
		"""A team billed by Lago: Press charges nothing, and the dashboard does not ask for a card
		("Add a payment mode" shows while payment_mode is empty) since Lago's checkout takes payment."""
		super().before_insert()
		if lago_enabled():
			self.free_account = 1
			self.payment_mode = LAGO_PAYMENT_MODE

	def create_stripe_customer(self):
		if not lago_enabled():
			super().create_stripe_customer()

	def create_upcoming_invoice(self):
		"""Press's monthly draft invoice would only show $0 in the dashboard beside Lago's invoices."""
		if not lago_enabled():
			return super().create_upcoming_invoice()
		return None

	def update_billing_details_on_stripe(self, address=None):
		if not lago_enabled():
			super().update_billing_details_on_stripe(address)

	def is_payment_mode_set(self):
		"""Onboarding is complete for a Lago team: its payment is asked for when a site needs it."""
		return self.payment_mode == LAGO_PAYMENT_MODE or super().is_payment_mode_set()


def add_lago_payment_mode() -> None:
	"""after_install and after_migrate: "Lago" among Team.payment_mode's options, after Press's own
	(read from its meta, so an option a later Press adds is kept)."""
	frappe.clear_cache(doctype="Team")
	options = (frappe.get_meta("Team").get_options("payment_mode") or "").split("\n")
	if LAGO_PAYMENT_MODE in options:
		return
	make_property_setter(
		"Team",
		"payment_mode",
		"options",
		"\n".join([*options, LAGO_PAYMENT_MODE]),
		"Text",
		validate_fields_for_doctype=False,
	)
