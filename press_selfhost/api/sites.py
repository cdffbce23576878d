"""A customer's new site (Website Users): create it or pay for it first, watch it being built, retry.

`new` answers the dashboard's "Create site" (press.api.site.new); `create` is the same for this app's
pages, which can follow a checkout URL. `progress` and `retry` are polled by /site-progress. Each site
is answered for only to its team's members; anyone else's and a missing one are the same 404.
"""

import frappe

from press_selfhost.sites import new_site


@frappe.whitelist(methods=["POST"])
def new(site: dict) -> dict:
	"""press.api.site.new: {site, job} as Press answers when the site is created now. When it must be
	paid for first, the reservation is kept and the dashboard shows a 402 whose message links to
	Lago's checkout: its New Site page can only show a message or open the created site's job."""
	answer = new_site.request_site(_as_dict(site))
	if "checkout_url" in answer:
		frappe.db.commit()  # the reservation stays, although the answer is an error for the dashboard
		frappe.throw(new_site.payment_required_message(answer), new_site.PaymentRequired)
	return answer


@frappe.whitelist(methods=["POST"])
def create(site: dict) -> dict:
	"""Like `new`, for pages that send the customer on: {site, job, progress_url} or {site, checkout_url,
	progress_url}."""
	answer = new_site.request_site(_as_dict(site))
	return {"progress_url": new_site.progress_url(answer["site"]), **answer}


@frappe.whitelist()
def progress(site: str | None = None) -> dict:
	"""Where the site is: state, plain-language title and message, the build's steps, what to do next."""
	return new_site.site_progress(site)


@frappe.whitelist(methods=["POST"])
def retry(site: str) -> dict:
	"""Pay again ({checkout_url}) after a failed or abandoned payment, or build again ({retried})."""
	return new_site.retry(site)


def _as_dict(site) -> dict:
	if isinstance(site, str):
		site = frappe.parse_json(site)
	if not isinstance(site, dict):
		frappe.throw("site must be an object", new_site.SiteRequestError)
	return site
