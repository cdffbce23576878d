"""Stand-in for Keycloak's Admin REST API (no Keycloak server can run here): routes and shapes from
Keycloak's Admin REST API documentation, with state kept in memory.

It answers the admin login on the master realm's token endpoint and the realm, role, client,
required-action and identity-provider routes our bootstrap uses, with Keycloak's status codes
(201 on create, 204 on update and delete, 404 for a missing object, 409 for a duplicate) and its
habits: a PUT updates the fields it carries, stored secrets read back masked as "**********", and a
new realm comes with its default required actions. Tests read `requests` to check idempotence.
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
		self.route("POST", instances, self._guarded(self._create_idp))
		self.route("GET", f"{instances}/(?P<alias>[^/]+)", self._guarded(self._get_idp))
		self.route("PUT", f"{instances}/(?P<alias>[^/]+)", self._guarded(self._update_idp))

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
			"representation": {"id": str(uuid.uuid4()), **body},
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
			"users": {},
		}
		return Response(201, b"", {"Location": f"{self.url}/admin/realms/{body['realm']}"})

	def _get_realm(self, request: Request) -> Response:
		representation = copy.deepcopy(self.realms[request.params["realm"]]["representation"])
		if representation.get("smtpServer", {}).get("password"):
			representation["smtpServer"]["password"] = MASK
		return Response(200, representation)

	def _update_realm(self, request: Request) -> Response:
		stored = self.realms[request.params["realm"]]["representation"]
		body = request.json()
		if "smtpServer" in body:
			smtp = dict(body["smtpServer"])
			if smtp.get("password") in (None, MASK):
				smtp["password"] = stored.get("smtpServer", {}).get("password")
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
		idps, body = self.realms[request.params["realm"]]["idps"], request.json()
		if body["alias"] in idps:
			return Response(409, {"errorMessage": f"Identity Provider {body['alias']} already exists"})
		idps[body["alias"]] = {"internalId": str(uuid.uuid4()), **body}
		return Response(201, b"")

	def _get_idp(self, request: Request) -> Response:
		idp = self.realms[request.params["realm"]]["idps"].get(request.params["alias"])
		if not idp:
			return Response(404, {"error": "Could not find identity provider"})
		idp = copy.deepcopy(idp)
		if idp.get("config", {}).get("clientSecret"):
			idp["config"]["clientSecret"] = MASK
		return Response(200, idp)

	def _update_idp(self, request: Request) -> Response:
		idp = self.realms[request.params["realm"]]["idps"].get(request.params["alias"])
		if not idp:
			return Response(404, {"error": "Could not find identity provider"})
		body = request.json()
		config = dict(body.get("config", {}))
		if config.get("clientSecret") in (None, MASK):
			config["clientSecret"] = idp.get("config", {}).get("clientSecret")
		idp.update(body, config=config)
		return Response(204)

	def stored_secret(self, realm: str, alias: str) -> str:
		return self.realms[realm]["idps"][alias]["config"]["clientSecret"]
