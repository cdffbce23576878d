"""What the dashboard shows and asks for a plan, from Lago's plan: its price, its interval, pay first or not.

Framework-free. Lago is the price list; Press's Site Plan only carries a copy for the dashboard (which
prints `price_usd` or `price_inr` by the team's currency, per month or per year) and for Press's own
`validate_plan`, which refuses a price-0 plan to customers.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from press_selfhost.billing.lago import LagoPlan
from press_selfhost.errors import ConfigurationError

# Lago's intervals that Press's Site Plan can say (its options: Daily, Monthly, Annually).
PRESS_INTERVALS = {"monthly": "Monthly", "yearly": "Annually"}


@dataclass(frozen=True)
class SitePlanPrice:
	"""The Site Plan fields that repeat Lago's plan."""

	price_usd: float
	price_inr: float
	interval: str

	def as_fields(self) -> dict:
		return {"price_usd": self.price_usd, "price_inr": self.price_inr, "interval": self.interval}


def site_plan_price(plan: LagoPlan) -> SitePlanPrice:
	"""Lago's amount in both of Press's price fields: the dashboard prints the one of the team's currency,
	so the amount the customer sees is Lago's whichever it picks (Lago plans should be in USD or INR)."""
	interval = PRESS_INTERVALS.get(plan.interval)
	if interval is None:
		raise ConfigurationError(
			f"Lago plan {plan.code!r} is billed {plan.interval}: Press's dashboard shows monthly and yearly "
			"prices only; make it a monthly or yearly plan in Lago."
		)
	amount = plan.amount_cents / 100
	return SitePlanPrice(price_usd=amount, price_inr=amount, interval=interval)


def requires_upfront_payment(
	amount_cents: int | None, pay_in_advance: bool, trial_period_days: float
) -> bool:
	"""Whether Lago issues an invoice as the subscription starts, so that the site waits for its payment.

	A free plan, a plan paid at the end of its period, and a trial issue none: the site is built at once.
	"""
	return bool(amount_cents) and pay_in_advance and not trial_period_days


def pay_first(plan: LagoPlan, has_payment_method: bool) -> bool:
	"""A new site waits for the customer to pay through Lago's checkout, or (False) is built right away:
	a team with a payment method on file is charged by Lago without leaving the dashboard."""
	return (
		requires_upfront_payment(plan.amount_cents, plan.pay_in_advance, plan.trial_period_days)
		and not has_payment_method
	)


def offered_to(plan_roles: Mapping[str, list[str]], user_roles: list[str]) -> set[str]:
	"""The plans (name → its Has Role rows) that a user with these roles is offered, as Press decides
	(press/press/doctype/site_plan/plan.py: filter_by_roles)."""
	return {plan for plan, roles in plan_roles.items() if set(roles) & set(user_roles)}
