"""A stand-in for Keycloak's public OpenID Connect discovery endpoint (not Keycloak itself).

It serves `/realms/<realm>/.well-known/openid-configuration` as Keycloak does for the realms it
knows, and 404 for others; enough for checks that only read the discovery document.
"""

from tests.support.standin import HTTPStandIn, Request, Response


class KeycloakDiscoveryStandIn(HTTPStandIn):
	name = "Keycloak discovery stand-in"

	def __init__(self, realms=("cloud",)):
		super().__init__()
		self.realms = set(realms)
		self.route("GET", r"/realms/(?P<realm>[^/]+)/\.well-known/openid-configuration", self._discovery)

	def _discovery(self, request: Request) -> Response:
		realm = request.params["realm"]
		if realm not in self.realms:
			return Response(404, {"error": "Realm does not exist"})
		# the Host the client used, as Keycloak does with its default hostname settings
		issuer = f"http://{request.headers['Host']}/realms/{realm}"
		return Response(
			200,
			{
				"issuer": issuer,
				"authorization_endpoint": f"{issuer}/protocol/openid-connect/auth",
				"token_endpoint": f"{issuer}/protocol/openid-connect/token",
				"userinfo_endpoint": f"{issuer}/protocol/openid-connect/userinfo",
				"jwks_uri": f"{issuer}/protocol/openid-connect/certs",
			},
		)
