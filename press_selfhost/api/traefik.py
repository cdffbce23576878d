"""What Traefik's HTTP provider polls: the routing configuration built from Press's records.

Traefik sends the token in a header (`providers.http.headers.X-Traefik-Token`). Frappe itself
claims `Authorization: Basic` for API keys, so Basic credentials only reach this method when the
request is routed around Frappe's authentication; the header always does.
"""

import frappe
from werkzeug.wrappers import Response

from press_selfhost.routing.traefik import (
	RoutingSettings,
	build_dynamic_config,
	config_response,
	press_routes,
	token_matches,
)


@frappe.whitelist(allow_guest=True, methods=["GET"])
def config():
	settings = frappe.get_single("Selfhost Settings")
	token = settings.get_password("traefik_config_token", raise_exception=False) or ""
	if not token_matches(
		token,
		header_token=frappe.get_request_header("X-Traefik-Token"),
		authorization=frappe.get_request_header("Authorization"),
	):
		return Response('{"error": "token required"}', status=401, content_type="application/json")

	# One query per DocType: the join happens in memory, so 10,000 sites cost five queries.
	routes = press_routes(
		sites=frappe.get_all(
			"Site",
			filters={"status": ("!=", "Archived")},
			fields=["name", "status", "server", "bench", "host_name"],
		),
		site_domains=frappe.get_all("Site Domain", fields=["domain", "site", "redirect_to_primary"]),
		servers=frappe.get_all("Server", fields=["name", "private_ip", "ip", "is_self_hosted"]),
		benches=frappe.get_all("Bench", fields=["name", "port_offset"]),
	)
	answer = config_response(
		build_dynamic_config(
			routes, _routing_settings(settings, frappe.get_all("Root Domain", pluck="name"))
		),
		frappe.get_request_header("If-None-Match"),
	)
	return Response(answer.body, status=answer.status, headers=answer.headers)


def _routing_settings(settings, root_domains: list[str]) -> RoutingSettings:
	press_url = settings.get("press_upstream_url") or "http://127.0.0.1:8000"
	return RoutingSettings(
		domain=settings.get("domain") or "localhost",
		press_url=press_url,
		lago_front_url=settings.get("lago_front_upstream_url") or "",
		status_page_url=settings.get("status_page_url") or press_url,
		root_domains=tuple(root_domains),
		dns_cert_resolver=settings.get("traefik_wildcard_cert_resolver") or "",
		http_cert_resolver=settings.get("traefik_custom_domain_cert_resolver") or "",
	)
