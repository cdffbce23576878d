"""A stand-in for Press's web server (not Frappe) on 127.0.0.1: Press's auth hook in front of
press_selfhost's Guest endpoints (the routing configuration Traefik polls, Lago's and Postal's webhooks).

What happens before a method runs is done as Frappe (develop, Feb 2025) and Press (8542b9c) do it:
1. the site: X-Frappe-Site-Name, else Host; another site is a 404 (Frappe's NotFound);
2. Press's auth hook (press/auth.py `hook`, 8542b9c): a caller that is not a System User is refused
   on an /api/ path outside Press's allow-list, with Frappe's answer to `frappe.throw(...,
   AuthenticationError)` on an /api/ path (app.handle_exception → response.report_error, API v1,
   tracebacks off): 401 {"exc_type": "AuthenticationError", "_server_messages": ...};
3. override_whitelisted_methods, then the method (Frappe's handler.execute_cmd): an unknown one is
   417 "Failed to get method ...", a wrong HTTP method 403; what the method returns is sent under
   "message", a werkzeug Response as it is.
The endpoints run the same core functions as press_selfhost's (`token_matches`, `build_dynamic_config`,
`config_response`, both `verify_webhook`s), for one site only.
"""

import json
import secrets
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs

from press_selfhost import hooks
from press_selfhost.billing import lago
from press_selfhost.errors import ConfigurationError, WebhookVerificationError
from press_selfhost.mail import postal
from press_selfhost.routing.traefik import (
	Route,
	RoutingSettings,
	build_dynamic_config,
	config_response,
	token_matches,
)
from tests.support.press_auth import PRESS_8542B9C, REFUSAL_MESSAGE, AuthHookRules
from tests.support.standin import HTTPStandIn, Request, Response


def auth_hook_allows(path: str, form_dict: Mapping, user_type: str, rules: AuthHookRules) -> bool:
	"""press.auth.hook's decision: the path is `cmd` from the request's arguments when there is one."""
	if form_dict.get("cmd"):
		path = f"/api/method/{form_dict['cmd']}"
	return rules.allows(path, user_type)


def frappe_error(status: int, exc_type: str, message: str) -> Response:
	"""Frappe's JSON answer to `frappe.throw(message, <exc_type>)` on an /api/ path (API v1)."""
	logged = {
		"message": message,
		"title": "Message",
		"indicator": "red",
		"raise_exception": 1,
		"__frappe_exc_id": secrets.token_hex(5),
	}
	return Response(status, {"exc_type": exc_type, "_server_messages": json.dumps([json.dumps(logged)])})


class PressWebStandIn(HTTPStandIn):
	name = "Press web server stand-in"

	def __init__(
		self,
		domain: str,
		token: str,
		routes: tuple[Route, ...] = (),
		*,
		overrides: Mapping[str, str] = hooks.override_whitelisted_methods,
		lago_hmac_key: str = "lago-hmac-key",
		postal_public_key_pem: str = "",
	):
		super().__init__()
		self.site = f"cloud.{domain}"
		self.token = token
		self.routes = routes
		self.overrides = dict(overrides)
		self.lago_hmac_key = lago_hmac_key
		self.rules = PRESS_8542B9C  # a test may play a Press that allows less
		self.checks_token = True  # a test may play a routing endpoint that forgot the token
		self.postal_public_key_pem = postal_public_key_pem
		# An API key and secret of a System User (Administrator): Frappe's `Authorization: token key:secret`.
		self.system_user_token = f"{secrets.token_hex(8)}:{secrets.token_hex(8)}"
		self.stored: list[tuple[str, bytes]] = []
		self.settings = RoutingSettings(
			domain=domain, press_url="http://press-web:8000", status_page_url="http://press-web:8000"
		)
		self.methods: dict[str, tuple[str, Callable[[Request], object]]] = {
			"press_selfhost.api.traefik.config": ("GET", self._config),
			"press_selfhost.api.lago.webhook": ("POST", self._lago_webhook),
			"press_selfhost.api.postal.webhook": ("POST", self._postal_webhook),
		}

	def _dispatch(self, request: Request) -> Response:
		site = request.headers.get("X-Frappe-Site-Name") or (request.headers.get("Host") or "").split(":")[0]
		if site != self.site:
			return Response(404, f"{site} does not exist")
		if not auth_hook_allows(request.path, _form_dict(request), self._user_type(request), self.rules):
			return frappe_error(401, "AuthenticationError", REFUSAL_MESSAGE)
		if not request.path.startswith("/api/method/"):
			return Response(404, {"error": f"no route for {request.method} {request.path}"})
		cmd = request.path.removeprefix("/api/method/")
		cmd = self.overrides.get(cmd, cmd)
		if cmd not in self.methods:
			module = cmd.rpartition(".")[0]
			return frappe_error(
				417,
				"ValidationError",
				f"Failed to get method for command {cmd} with No module named '{module}'",
			)
		http_method, method = self.methods[cmd]
		if request.method != http_method:
			return frappe_error(403, "PermissionError", "Not permitted")
		answer = method(request)
		return answer if isinstance(answer, Response) else Response(200, {"message": answer})

	def _user_type(self, request: Request) -> str:
		authorization = request.headers.get("Authorization") or ""
		if secrets.compare_digest(authorization, f"token {self.system_user_token}"):
			return "System User"
		return "Website User"  # Guest, or a dashboard customer: the hook checks all but System Users

	def _config(self, request: Request) -> Response:
		if self.checks_token and not token_matches(
			self.token,
			header_token=request.headers.get("X-Traefik-Token"),
			authorization=request.headers.get("Authorization"),
		):
			return Response(401, {"error": "token required"})
		answer = config_response(
			build_dynamic_config(self.routes, self.settings), request.headers.get("If-None-Match")
		)
		return Response(answer.status, answer.body, answer.headers)

	def _lago_webhook(self, request: Request) -> Response | dict:
		try:
			lago.verify_webhook(request.body, request.headers, hmac_key=self.lago_hmac_key)
		except WebhookVerificationError as error:
			return Response(401, {"message": {"refused": error.reason}})
		self.stored.append(("Lago", request.body))
		return {"received": True}

	def _postal_webhook(self, request: Request) -> Response | dict:
		try:
			postal.verify_webhook(request.body, request.headers, public_key_pem=self.postal_public_key_pem)
		except WebhookVerificationError as error:
			return Response(401, {"message": {"refused": error.reason}})
		except ConfigurationError:
			return Response(503, {"message": {"refused": "the webhook key is not configured; retry later"}})
		self.stored.append(("Postal", request.body))
		return {"received": True}


def _form_dict(request: Request) -> dict:
	"""Frappe's make_form_dict: a JSON body, else the query string and a form body."""
	content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
	if request.body and content_type == "application/json":
		args = json.loads(request.body)
		return args if isinstance(args, dict) else {"data": args}
	args = {name: values[-1] for name, values in request.query.items()}
	if content_type == "application/x-www-form-urlencoded":
		args.update({name: values[-1] for name, values in parse_qs(request.body.decode()).items()})
	return args
