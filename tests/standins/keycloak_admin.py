"""Stand-in for Keycloak's Admin REST API (no Keycloak server can run here): routes and shapes from
Keycloak's Admin REST API documentation, with state kept in memory.

It answers the admin login on the master realm's token endpoint and the realm, role, client,
required-action, identity-provider and authentication-flow routes our bootstrap uses, with
Keycloak's status codes (201 on create, 204 on update and delete, 404 for a missing object, 409 for
a duplicate) and its habits: a PUT updates the fields it carries, stored secrets read back masked as
"**********", a realm PUT replaces `smtpServer` wholesale and keeps the stored SMTP password only
when the PUT carries that mask as the password (RepresentationToModel.updateRealm), a new realm comes with its default required actions and its built-in browser flow
bound, new executions start DISABLED, a PUT of an identity provider replaces its representation
(RepresentationToModel: an absent or empty postBrokerLoginFlowAlias unsets the post-login flow, an
unknown one is a ModelException), and a built-in flow cannot be deleted, nor one in use as the
realm's browser flow or an identity provider's first or post-login flow (KeycloakModelUtils.isFlowUsed;
Keycloak's error handler maps that ModelException to a 500). Tests read `requests` to check
idempotence.
"""

import copy
import secrets
import uuid
from urllib.parse import parse_qs, unquote

from tests.support.standin import HTTPStandIn, Request, Response

MASK = "**********"
REALM = r"/admin/realms/(?P<realm>[^/]+)"
DEFAULT_REQUIRED_ACTIONS = (
	"CONFIGURE_TOTP",
	"TERMS_AND_CONDITIONS",
	"UPDATE_PASSWORD",
	"UPDATE_PROFILE",
	"VERIFY_EMAIL",
)
# Authenticators the stand-in knows: provider id → (display name, configurable).
AUTHENTICATORS = {
	"auth-cookie": ("Cookie", False),
	"auth-spnego": ("Kerberos", False),
	"identity-provider-redirector": ("Identity Provider Redirector", True),
	"auth-username-password-form": ("Username Password Form", False),
	"auth-otp-form": ("OTP Form", False),
	"conditional-user-configured": ("Condition - user configured", False),
	"conditional-user-role": ("Condition - user role", True),
	"allow-access-authenticator": ("Allow access", False),
}
REQUIREMENTS = ("REQUIRED", "ALTERNATIVE", "DISABLED", "CONDITIONAL")
BUILT_IN_FLOWS = (
	"browser",
	"direct grant",
	"registration",
	"reset credentials",
	"clients",
	"first broker login",
)
# What Keycloak answers for a ModelException its error handler does not map (KeycloakErrorHandler).
MODEL_EXCEPTION = {
	"error": "unknown_error",
	"error_description": "For more on this error consult the server log.",
}


class KeycloakAdminStandIn(HTTPStandIn):
	name = "Keycloak admin API stand-in"

	def __init__(self, username: str = "admin", password: str = "admin-password"):  # noqa: S107 (test credentials)
		super().__init__()
		self.username, self.password = username, password
		self.tokens: set[str] = set()
		self.realms: dict[str, dict] = {}
		self.route("POST", "/realms/master/protocol/openid-connect/token", self._login)
		self.route("POST", "/admin/realms", self._guarded(self._create_realm))
		self.route("GET", REALM, self._guarded(self._get_realm))
		self.route("PUT", REALM, self._guarded(self._update_realm))
		self.route("POST", f"{REALM}/roles", self._guarded(self._create_role))
		self.route("GET", f"{REALM}/roles/(?P<name>[^/]+)", self._guarded(self._get_role))
		self.route("GET", f"{REALM}/clients", self._guarded(self._find_clients))
		self.route("POST", f"{REALM}/clients", self._guarded(self._create_client))
		self.route("GET", f"{REALM}/clients/(?P<id>[^/]+)", self._guarded(self._get_client))
		self.route("PUT", f"{REALM}/clients/(?P<id>[^/]+)", self._guarded(self._update_client))
		self.route("DELETE", f"{REALM}/clients/(?P<id>[^/]+)", self._guarded(self._delete_client))
		self.route("GET", f"{REALM}/clients/(?P<id>[^/]+)/client-secret", self._guarded(self._client_secret))
		mappers = f"{REALM}/clients/(?P<id>[^/]+)/protocol-mappers/models"
		self.route("GET", mappers, self._guarded(self._get_mappers))
		self.route("POST", mappers, self._guarded(self._create_mapper))
		self.route("PUT", f"{mappers}/(?P<mapper>[^/]+)", self._guarded(self._update_mapper))
		client_roles = f"{REALM}/clients/(?P<id>[^/]+)/roles"
		self.route("POST", client_roles, self._guarded(self._create_client_role))
		self.route("GET", f"{client_roles}/(?P<name>[^/]+)", self._guarded(self._get_client_role))
		self.route(
			"POST",
			f"{REALM}/users/(?P<user>[^/]+)/role-mappings/clients/(?P<id>[^/]+)",
			self._guarded(self._map_client_roles),
		)
		actions = f"{REALM}/authentication/required-actions/(?P<alias>[^/]+)"
		self.route("GET", actions, self._guarded(self._get_required_action))
		self.route("PUT", actions, self._guarded(self._update_required_action))
		self.route("DELETE", f"{REALM}/sessions/(?P<session>[^/]+)", self._guarded(self._end_session))
		instances = f"{REALM}/identity-provider/instances"
		self.route("GET", instances, self._guarded(self._list_idps))
		self.route("POST", instances, self._guarded(self._create_idp))
		self.route("GET", f"{instances}/(?P<alias>[^/]+)", self._guarded(self._get_idp))
		self.route("PUT", f"{instances}/(?P<alias>[^/]+)", self._guarded(self._update_idp))
		authentication = f"{REALM}/authentication"
		self.route("GET", f"{authentication}/flows", self._guarded(self._list_flows))
		self.route("POST", f"{authentication}/flows", self._guarded(self._create_flow))
		self.route("DELETE", f"{authentication}/flows/(?P<id>[^/]+)", self._guarded(self._delete_flow))
		executions = f"{authentication}/flows/(?P<alias>[^/]+)/executions"
		self.route("GET", executions, self._guarded(self._get_executions))
		self.route("PUT", executions, self._guarded(self._update_execution))
		self.route("POST", f"{executions}/execution", self._guarded(self._add_execution))
		self.route("POST", f"{executions}/flow", self._guarded(self._add_subflow))
		self.route(
			"POST", f"{authentication}/executions/(?P<id>[^/]+)/config", self._guarded(self._add_config)
		)
		self.route("GET", f"{authentication}/config/(?P<id>[^/]+)", self._guarded(self._get_config))

	# -- for tests ----------------------------------------------------------------------------------
	def reset(self) -> None:
		"""Forget every realm, token and logged request: a Keycloak just installed."""
		with self._lock:
			self.requests.clear()
		self.tokens.clear()
		self.realms.clear()

	def expire_tokens(self) -> None:
		self.tokens.clear()

	def writes(self) -> list[Request]:
		return [
			request
			for request in self.requests
			if request.method in ("POST", "PUT", "DELETE") and request.path.startswith("/admin/")
		]

	def client(self, realm: str, client_id: str) -> dict | None:
		return next((c for c in self.realms[realm]["clients"].values() if c["clientId"] == client_id), None)

	# -- auth ---------------------------------------------------------------------------------------
	def _login(self, request: Request) -> Response:
		form = {name: values[0] for name, values in parse_qs(request.body.decode()).items()}
		if form.get("grant_type") != "password" or form.get("client_id") != "admin-cli":
			return Response(400, {"error": "unauthorized_client"})
		if (form.get("username"), form.get("password")) != (self.username, self.password):
			return Response(401, {"error": "invalid_grant", "error_description": "Invalid user credentials"})
		token = secrets.token_urlsafe(16)
		self.tokens.add(token)
		return Response(200, {"access_token": token, "expires_in": 60, "token_type": "Bearer"})

	def _guarded(self, handler):
		def guarded(request: Request) -> Response:
			header = request.headers.get("Authorization", "")
			if not header.startswith("Bearer ") or header[7:] not in self.tokens:
				return Response(401, {"error": "HTTP 401 Unauthorized"})
			realm = request.params.get("realm")
			if realm is not None and realm not in self.realms:
				return Response(404, {"error": "Realm not found."})
			return handler(request)

		return guarded

	# -- realms -------------------------------------------------------------------------------------
	def _create_realm(self, request: Request) -> Response:
		body = request.json()
		if body["realm"] in self.realms:
			return Response(409, {"errorMessage": "Conflict detected. See logs for details"})
		self.realms[body["realm"]] = {
			"representation": {"id": str(uuid.uuid4()), "browserFlow": "browser", **body},
			"roles": {},
			"clients": {},
			"required_actions": {
				alias: {
					"alias": alias,
					"name": alias,
					"providerId": alias,
					"enabled": True,
					"defaultAction": False,
					"priority": 10,
					"config": {},
				}
				for alias in DEFAULT_REQUIRED_ACTIONS
			},
			"idps": {},
			"sessions": set(),
			"flows": {},
			"executions": {},
			"configs": {},
			"users": {},
		}
		for alias in BUILT_IN_FLOWS:
			self._new_flow(body["realm"], alias, top_level=True, built_in=True)
		return Response(201, b"", {"Location": f"{self.url}/admin/realms/{body['realm']}"})

	def _get_realm(self, request: Request) -> Response:
		representation = copy.deepcopy(self.realms[request.params["realm"]]["representation"])
		if representation.get("smtpServer", {}).get("password"):
			representation["smtpServer"]["password"] = MASK
		return Response(200, representation)

	def _update_realm(self, request: Request) -> Response:
		stored = self.realms[request.params["realm"]]["representation"]
		body = request.json()
		flow = body.get("browserFlow")
		if flow is not None and self._flow_by_alias(request.params["realm"], flow) is None:
			return Response(400, {"errorMessage": f"Flow {flow} not found"})
		if body.get("smtpServer") is not None:
			smtp = dict(body["smtpServer"])
			if smtp.get("password") == MASK:
				smtp["password"] = (stored.get("smtpServer") or {}).get("password")
			body["smtpServer"] = smtp
		stored.update({key: value for key, value in body.items() if value is not None})
		return Response(204)

	# -- sessions -----------------------------------------------------------------------------------
	def open_session(self, realm: str) -> str:
		"""A user session as a login would leave it; its id is the `sid` of the ID tokens."""
		session_id = str(uuid.uuid4())
		self.realms[realm]["sessions"].add(session_id)
		return session_id

	def _end_session(self, request: Request) -> Response:
		sessions = self.realms[request.params["realm"]]["sessions"]
		if request.params["session"] not in sessions:
			return Response(404, {"error": "Session not found"})
		sessions.discard(request.params["session"])
		return Response(204)

	# -- roles --------------------------------------------------------------------------------------
	def _create_role(self, request: Request) -> Response:
		roles = self.realms[request.params["realm"]]["roles"]
		body = request.json()
		if body["name"] in roles:
			return Response(409, {"errorMessage": f"Role with name {body['name']} already exists"})
		roles[body["name"]] = {"id": str(uuid.uuid4()), "composite": False, "clientRole": False, **body}
		return Response(201, b"")

	def _get_role(self, request: Request) -> Response:
		role = self.realms[request.params["realm"]]["roles"].get(request.params["name"])
		return Response(200, role) if role else Response(404, {"error": "Could not find role"})

	# -- clients ------------------------------------------------------------------------------------
	def _find_clients(self, request: Request) -> Response:
		clients = self.realms[request.params["realm"]]["clients"].values()
		wanted = request.query.get("clientId", [None])[0]
		return Response(200, [copy.deepcopy(c) for c in clients if wanted is None or c["clientId"] == wanted])

	def _create_client(self, request: Request) -> Response:
		realm, body = request.params["realm"], request.json()
		if self.client(realm, body["clientId"]):
			return Response(409, {"errorMessage": f"Client {body['clientId']} already exists"})
		client_uuid = str(uuid.uuid4())
		self.realms[realm]["clients"][client_uuid] = {"id": client_uuid, "attributes": {}, **body}
		return Response(201, b"", {"Location": f"{self.url}/admin/realms/{realm}/clients/{client_uuid}"})

	def _stored_client(self, request: Request) -> dict | None:
		return self.realms[request.params["realm"]]["clients"].get(request.params["id"])

	def _get_client(self, request: Request) -> Response:
		client = self._stored_client(request)
		return (
			Response(200, copy.deepcopy(client))
			if client
			else Response(404, {"error": "Could not find client"})
		)

	def _update_client(self, request: Request) -> Response:
		client = self._stored_client(request)
		if not client:
			return Response(404, {"error": "Could not find client"})
		body = request.json()
		attributes = {**client.get("attributes", {}), **body.pop("attributes", {})}
		client.update({key: value for key, value in body.items() if value is not None}, attributes=attributes)
		return Response(204)

	def _delete_client(self, request: Request) -> Response:
		removed = self.realms[request.params["realm"]]["clients"].pop(request.params["id"], None)
		return Response(204) if removed else Response(404, {"error": "Could not find client"})

	def _client_secret(self, request: Request) -> Response:
		client = self._stored_client(request)
		if not client:
			return Response(404, {"error": "Could not find client"})
		return Response(200, {"type": "secret", "value": client.get("secret")})

	# -- client roles, protocol mappers, role mappings ----------------------------------------------
	def _create_client_role(self, request: Request) -> Response:
		client = self._stored_client(request)
		if not client:
			return Response(404, {"error": "Could not find client"})
		roles, body = self._roles_of_client(request), request.json()
		if body["name"] in roles:
			return Response(409, {"errorMessage": f"Role with name {body['name']} already exists"})
		roles[body["name"]] = {"id": str(uuid.uuid4()), "composite": False, "clientRole": True, **body}
		return Response(201, b"")

	def _get_client_role(self, request: Request) -> Response:
		role = self._roles_of_client(request).get(unquote(request.params["name"]))
		return Response(200, copy.deepcopy(role)) if role else Response(404, {"error": "Could not find role"})

	def _roles_of_client(self, request: Request) -> dict:
		"""Client roles live beside the client, as in Keycloak (not in its representation)."""
		by_client = self.realms[request.params["realm"]].setdefault("client_roles", {})
		return by_client.setdefault(request.params["id"], {})

	def _get_mappers(self, request: Request) -> Response:
		client = self._stored_client(request)
		if not client:
			return Response(404, {"error": "Could not find client"})
		return Response(200, copy.deepcopy(client.get("protocolMappers", [])))

	def _create_mapper(self, request: Request) -> Response:
		client = self._stored_client(request)
		if not client:
			return Response(404, {"error": "Could not find client"})
		mappers, body = client.setdefault("protocolMappers", []), request.json()
		if any(mapper["name"] == body["name"] for mapper in mappers):
			return Response(409, {"errorMessage": f"Protocol mapper exists with same name: {body['name']}"})
		mappers.append({"id": str(uuid.uuid4()), "consentRequired": False, **body})
		return Response(201, b"")

	def _update_mapper(self, request: Request) -> Response:
		client = self._stored_client(request)
		mapper = next(
			(m for m in (client or {}).get("protocolMappers", []) if m["id"] == request.params["mapper"]),
			None,
		)
		if not mapper:
			return Response(404, {"error": "Model not found"})
		mapper.update(request.json())
		return Response(204)

	def add_user(self, realm: str) -> str:
		"""A realm user as a registration would leave it; its id is the `sub` of its tokens."""
		user_id = str(uuid.uuid4())
		self.realms[realm]["users"][user_id] = {}
		return user_id

	def client_roles_of(self, realm: str, user_id: str, client_id: str) -> set[str]:
		client = self.client(realm, client_id)
		return set(self.realms[realm]["users"][user_id].get(client["id"], set())) if client else set()

	def _map_client_roles(self, request: Request) -> Response:
		users = self.realms[request.params["realm"]]["users"]
		client = self._stored_client(request)
		if request.params["user"] not in users or not client:
			return Response(404, {"error": "User not found" if client else "Could not find client"})
		known = {role["id"]: name for name, role in self._roles_of_client(request).items()}
		wanted = request.json()
		if any(role.get("id") not in known for role in wanted):
			return Response(404, {"error": "Could not find role"})
		users[request.params["user"]].setdefault(client["id"], set()).update(known[r["id"]] for r in wanted)
		return Response(204)

	# -- required actions ---------------------------------------------------------------------------
	def _get_required_action(self, request: Request) -> Response:
		action = self.realms[request.params["realm"]]["required_actions"].get(request.params["alias"])
		return (
			Response(200, copy.deepcopy(action))
			if action
			else Response(404, {"error": "Failed to find required action"})
		)

	def _update_required_action(self, request: Request) -> Response:
		action = self.realms[request.params["realm"]]["required_actions"].get(request.params["alias"])
		if not action:
			return Response(404, {"error": "Failed to find required action"})
		action.update(
			{
				key: request.json()[key]
				for key in ("enabled", "defaultAction", "priority", "config")
				if key in request.json()
			}
		)
		return Response(204)

	# -- identity providers -------------------------------------------------------------------------
	def _create_idp(self, request: Request) -> Response:
		realm, body = request.params["realm"], request.json()
		idps = self.realms[realm]["idps"]
		if body["alias"] in idps:
			return Response(409, {"errorMessage": f"Identity Provider {body['alias']} already exists"})
		idp = self._idp_model(realm, body)
		if idp is None:
			return Response(500, MODEL_EXCEPTION)  # "No available authentication flow with alias: ..."
		idps[body["alias"]] = {"internalId": str(uuid.uuid4()), **idp}
		return Response(201, b"")

	def _idp_model(self, realm: str, body: dict) -> dict | None:
		"""The IdP as Keycloak stores a representation: without a post-login flow when the alias is
		absent or empty; None when it names a flow the realm does not have."""
		idp = {key: value for key, value in body.items() if key != "postBrokerLoginFlowAlias"}
		flow = body.get("postBrokerLoginFlowAlias")
		if flow and self._flow_by_alias(realm, flow) is None:
			return None
		return {**idp, "postBrokerLoginFlowAlias": flow} if flow else idp

	def _masked(self, idp: dict) -> dict:
		idp = copy.deepcopy(idp)
		if idp.get("config", {}).get("clientSecret"):
			idp["config"]["clientSecret"] = MASK
		return idp

	def _list_idps(self, request: Request) -> Response:
		return Response(
			200, [self._masked(idp) for idp in self.realms[request.params["realm"]]["idps"].values()]
		)

	def _get_idp(self, request: Request) -> Response:
		idp = self.realms[request.params["realm"]]["idps"].get(request.params["alias"])
		if not idp:
			return Response(404, {"error": "Could not find identity provider"})
		return Response(200, self._masked(idp))

	def _update_idp(self, request: Request) -> Response:
		realm = request.params["realm"]
		idps = self.realms[realm]["idps"]
		stored = idps.get(request.params["alias"])
		if not stored:
			return Response(404, {"error": "Could not find identity provider"})
		idp = self._idp_model(realm, request.json())
		if idp is None:
			return Response(500, MODEL_EXCEPTION)
		config = dict(idp.get("config") or {})
		if config.get("clientSecret") == MASK:  # the masked value keeps the stored secret
			config["clientSecret"] = stored.get("config", {}).get("clientSecret")
		idps[request.params["alias"]] = {**idp, "internalId": stored["internalId"], "config": config}
		return Response(204)

	def stored_secret(self, realm: str, alias: str) -> str:
		return self.realms[realm]["idps"][alias]["config"]["clientSecret"]

	# -- authentication flows -----------------------------------------------------------------------
	def flow(self, realm: str, alias: str) -> dict | None:
		return self._flow_by_alias(realm, alias)

	def flow_rows(self, realm: str, alias: str) -> list[tuple]:
		"""The flow as (level, sub-flow alias or authenticator, requirement, config), depth first."""
		state = self.realms[realm]
		rows = []
		for execution, level in self._walk(realm, self._flow_by_alias(realm, alias)["id"]):
			flow = state["flows"].get(execution.get("flowId"))
			config = state["configs"].get(execution.get("authenticatorConfig"), {}).get("config")
			name = flow["alias"] if flow else execution["authenticator"]
			rows.append((level, name, execution["requirement"], config))
		return rows

	def _new_flow(self, realm: str, alias: str, *, top_level: bool, built_in: bool = False) -> dict:
		flow = {
			"id": str(uuid.uuid4()),
			"alias": alias,
			"description": "",
			"providerId": "basic-flow",
			"topLevel": top_level,
			"builtIn": built_in,
		}
		self.realms[realm]["flows"][flow["id"]] = flow
		return flow

	def _flow_by_alias(self, realm: str, alias: str) -> dict | None:
		return next((f for f in self.realms[realm]["flows"].values() if f["alias"] == alias), None)

	def _children(self, realm: str, flow_id: str) -> list[dict]:
		executions = self.realms[realm]["executions"].values()
		return sorted((e for e in executions if e["parentFlow"] == flow_id), key=lambda e: e["priority"])

	def _walk(self, realm: str, flow_id: str, level: int = 0):
		for execution in self._children(realm, flow_id):
			yield execution, level
			if execution["authenticatorFlow"]:
				yield from self._walk(realm, execution["flowId"], level + 1)

	def _list_flows(self, request: Request) -> Response:
		flows = self.realms[request.params["realm"]]["flows"].values()
		return Response(
			200, [{**copy.deepcopy(f), "authenticationExecutions": []} for f in flows if f["topLevel"]]
		)

	def _create_flow(self, request: Request) -> Response:
		realm, body = request.params["realm"], request.json()
		if not body.get("alias"):
			return Response(409, {"errorMessage": "Failed to create flow with empty alias name"})
		if self._flow_by_alias(realm, body["alias"]):
			return Response(409, {"errorMessage": f"Flow {body['alias']} already exists"})
		flow = self._new_flow(realm, body["alias"], top_level=bool(body.get("topLevel", True)))
		flow.update(
			description=body.get("description") or "", providerId=body.get("providerId", "basic-flow")
		)
		return Response(201, b"", {"Location": f"{self.url}{request.path}/{flow['id']}"})

	def _delete_flow(self, request: Request) -> Response:
		realm = request.params["realm"]
		state = self.realms[realm]
		flow = state["flows"].get(request.params["id"])
		if not flow:
			return Response(404, {"error": "Flow not found"})
		if flow["builtIn"]:
			return Response(400, {"error": "Can't delete built in flow"})
		if self._flow_in_use(realm, flow["alias"]):
			return Response(
				500, MODEL_EXCEPTION
			)  # "Cannot remove authentication flow, it is currently in use"
		for execution, _ in list(self._walk(realm, flow["id"])):
			state["executions"].pop(execution["id"], None)
			state["configs"].pop(execution.get("authenticatorConfig"), None)
			state["flows"].pop(execution.get("flowId"), None)
		del state["flows"][flow["id"]]
		return Response(204)

	def _flow_in_use(self, realm: str, alias: str) -> bool:
		state = self.realms[realm]
		return state["representation"].get("browserFlow") == alias or any(
			alias in (idp.get("firstBrokerLoginFlowAlias"), idp.get("postBrokerLoginFlowAlias"))
			for idp in state["idps"].values()
		)

	def _parent(self, request: Request) -> tuple[dict | None, Response | None]:
		parent = self._flow_by_alias(request.params["realm"], unquote(request.params["alias"]))
		if parent is None:
			return None, Response(400, {"error": "Parent flow doesn't exist"})
		if parent["builtIn"]:
			return None, Response(400, {"error": "It is illegal to add execution to a built in flow"})
		return parent, None

	def _append(self, realm: str, parent: dict, **fields) -> dict:
		siblings = self._children(realm, parent["id"])
		execution = {
			"id": str(uuid.uuid4()),
			"parentFlow": parent["id"],
			"requirement": "DISABLED",
			"priority": siblings[-1]["priority"] + 1 if siblings else 0,
			"authenticatorFlow": False,
			**fields,
		}
		self.realms[realm]["executions"][execution["id"]] = execution
		return execution

	def _add_execution(self, request: Request) -> Response:
		parent, refusal = self._parent(request)
		if refusal:
			return refusal
		provider = request.json().get("provider")
		if provider not in AUTHENTICATORS:
			return Response(400, {"error": f"No authentication provider found for id: {provider}"})
		execution = self._append(request.params["realm"], parent, authenticator=provider)
		location = (
			f"{self.url}/admin/realms/{request.params['realm']}/authentication/executions/{execution['id']}"
		)
		return Response(201, b"", {"Location": location})

	def _add_subflow(self, request: Request) -> Response:
		realm, body = request.params["realm"], request.json()
		parent, refusal = self._parent(request)
		if refusal:
			return refusal
		if self._flow_by_alias(realm, body.get("alias")):
			return Response(409, {"errorMessage": "New flow alias name already exists"})
		flow = self._new_flow(realm, body["alias"], top_level=False)
		flow.update(description=body.get("description") or "", providerId=body.get("type", "basic-flow"))
		self._append(realm, parent, authenticatorFlow=True, flowId=flow["id"], authenticator=None)
		return Response(
			201, b"", {"Location": f"{self.url}/admin/realms/{realm}/authentication/flows/{flow['id']}"}
		)

	def _get_executions(self, request: Request) -> Response:
		realm = request.params["realm"]
		flow = self._flow_by_alias(realm, unquote(request.params["alias"]))
		if flow is None:
			return Response(404, {"error": "Flow not found"})
		state, answer, index = self.realms[realm], [], {}
		for execution, level in self._walk(realm, flow["id"]):
			index[level] = index.get(level, -1) + 1
			info = {
				"id": execution["id"],
				"requirement": execution["requirement"],
				"level": level,
				"index": index[level],
				"priority": execution["priority"],
			}
			if execution["authenticatorFlow"]:
				subflow = state["flows"][execution["flowId"]]
				info.update(
					displayName=subflow["alias"],
					description=subflow["description"],
					requirementChoices=list(REQUIREMENTS),
					configurable=False,
					authenticationFlow=True,
					flowId=subflow["id"],
				)
			else:
				display_name, configurable = AUTHENTICATORS[execution["authenticator"]]
				info.update(
					displayName=display_name,
					requirementChoices=list(REQUIREMENTS),
					configurable=configurable,
					providerId=execution["authenticator"],
				)
				config = state["configs"].get(execution.get("authenticatorConfig"))
				if config:
					info.update(authenticationConfig=config["id"], alias=config["alias"])
			answer.append(info)
		return Response(200, answer)

	def _update_execution(self, request: Request) -> Response:
		realm, body = request.params["realm"], request.json()
		if self._flow_by_alias(realm, unquote(request.params["alias"])) is None:
			return Response(404, {"error": "flow not found"})
		execution = self.realms[realm]["executions"].get(body.get("id"))
		if execution is None:
			return Response(404, {"error": "Illegal execution"})
		if body.get("requirement") not in REQUIREMENTS:
			return Response(400, {"error": f"No enum constant {body.get('requirement')}"})
		# Keycloak copies priority and requirement from the body: a body without priority moves it to 0.
		execution.update(priority=body.get("priority", 0), requirement=body["requirement"])
		return Response(204)

	def _add_config(self, request: Request) -> Response:
		realm, body = request.params["realm"], request.json()
		state = self.realms[realm]
		execution = state["executions"].get(request.params["id"])
		if execution is None:
			return Response(404, {"error": "Illegal execution"})
		if any(config["alias"] == body.get("alias") for config in state["configs"].values()):
			return Response(409, {"errorMessage": f"Authenticator config {body.get('alias')} already exists"})
		config = {
			"id": str(uuid.uuid4()),
			"alias": body.get("alias"),
			"config": dict(body.get("config") or {}),
		}
		state["configs"][config["id"]] = config
		execution["authenticatorConfig"] = config["id"]
		return Response(
			201, b"", {"Location": f"{self.url}/admin/realms/{realm}/authentication/config/{config['id']}"}
		)

	def _get_config(self, request: Request) -> Response:
		config = self.realms[request.params["realm"]]["configs"].get(request.params["id"])
		return (
			Response(200, copy.deepcopy(config))
			if config
			else Response(404, {"error": "Could not find authenticator config"})
		)
