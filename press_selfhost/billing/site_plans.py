"""Press's Site Plans as Lago prices them, offered to the roles customers have (Frappe glue).

The dashboard offers a Site Plan only to users holding one of its Has Role rows, prints its
price_usd/price_inr per its interval, and `press.api.site.validate_plan` refuses price-0 plans to
customers. So each plan in Lago Plan Map gets Lago's price and interval and the customers' roles.
Scheduled hourly, after bootstrap and on demand (`bench execute
press_selfhost.billing.site_plans.sync_site_plans`).
"""

import frappe

from press_selfhost.billing.jobs import lago_enabled, lago_gateway
from press_selfhost.billing.plans import site_plan_price
from press_selfhost.errors import ConfigurationError, ServiceRejectedError, ServiceUnavailableError
from press_selfhost.setup.bootstrap_records import CUSTOMER_ROLES


def sync_site_plans() -> dict[str, str]:
	"""Each mapped Site Plan → "updated", "unchanged" or why it was left as it was."""
	if not lago_enabled():
		return {}
	gateway = lago_gateway()
	roles = [role for role in CUSTOMER_ROLES if frappe.db.exists("Role", role)]
	results = {}
	for site_plan, code in frappe.get_all(
		"Lago Plan Map", fields=["site_plan", "lago_plan_code"], as_list=True, order_by="site_plan"
	):
		try:
			price = site_plan_price(gateway.plan(code))
		except ServiceUnavailableError:
			raise  # Lago is down: the next run syncs every plan
		except (ServiceRejectedError, ConfigurationError) as error:
			results[site_plan] = str(error)
			frappe.log_error(title=f"Site Plan {site_plan}: Lago plan {code}", message=str(error))
			continue
		results[site_plan] = _update(site_plan, price.as_fields(), roles)
	frappe.db.commit()
	return results


def _update(site_plan: str, fields: dict, roles: list[str]) -> str:
	plan = frappe.get_doc("Site Plan", site_plan)
	changed = {key: value for key, value in fields.items() if plan.get(key) != value}
	missing = [role for role in roles if role not in {row.role for row in plan.roles}]
	if not changed and not missing:
		return "unchanged"
	plan.update(changed)
	for role in missing:
		plan.append("roles", {"role": role})
	plan.save(ignore_permissions=True)
	return "updated"
