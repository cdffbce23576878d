"""A stand-in for Press's web server (not Frappe): press_selfhost's routing endpoint, on 127.0.0.1.

It answers `GET /api/method/press.api.selfhost_traefik.config` (the name hooks.py gives Traefik) and
`GET /api/method/press_selfhost.api.traefik.config` as the whitelisted method does, with
the same core functions (`token_matches`, `build_dynamic_config`, `config_response`), for one site
only, picked like Frappe picks a site: by X-Frappe-Site-Name, else by Host; another site is a 404.
"""

from press_selfhost.routing.traefik import (
	Route,
	RoutingSettings,
	build_dynamic_config,
	config_response,
	token_matches,
)
from tests.support.standin import HTTPStandIn, Request, Response

# Both names Press serves the method under: the override Traefik polls, and the method's own.
CONFIG_PATHS = (
	"/api/method/press.api.selfhost_traefik.config",
	"/api/method/press_selfhost.api.traefik.config",
)


class PressRoutingStandIn(HTTPStandIn):
	name = "Press routing endpoint stand-in"

	def __init__(self, domain: str, token: str, routes: tuple[Route, ...] = ()):
		super().__init__()
		self.site = f"cloud.{domain}"
		self.token = token
		self.routes = routes
		self.settings = RoutingSettings(
			domain=domain, press_url="http://press-web:8000", status_page_url="http://press-web:8000"
		)
		for path in CONFIG_PATHS:
			self.route("GET", path.replace(".", r"\."), self._config)

	def _config(self, request: Request) -> Response:
		site = request.headers.get("X-Frappe-Site-Name") or (request.headers.get("Host") or "").split(":")[0]
		if site != self.site:
			return Response(404, f"{site} does not exist")
		if not token_matches(
			self.token,
			header_token=request.headers.get("X-Traefik-Token"),
			authorization=request.headers.get("Authorization"),
		):
			return Response(401, {"error": "token required"})
		answer = config_response(
			build_dynamic_config(self.routes, self.settings), request.headers.get("If-None-Match")
		)
		return Response(answer.status, answer.body, answer.headers)
