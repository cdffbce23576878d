"""The OpenID provider (oidc-provider under Keycloak's paths) shared by the SSO tests."""

import pytest

from tests.support.oidc_provider import OIDCProvider
from tests.support.processes import MissingBinaryError
from tests.support.standin import HTTPStandIn, Response

DASHBOARD_CALLBACK = "http://cloud.example.test/auth/keycloak/callback"
DASHBOARD_LOGGED_OUT = "http://cloud.example.test/auth/keycloak/logged-out"
DASHBOARD_SECRET = "dashboard-client-secret"


class BackchannelReceiver(HTTPStandIn):
	"""Stand-in for our back-channel logout endpoint: keeps the logout tokens the provider POSTs."""

	name = "back-channel logout receiver (stand-in)"

	def __init__(self):
		super().__init__()
		self.route("POST", "/auth/keycloak/backchannel_logout", lambda request: Response(200, b""))

	def logout_tokens(self) -> list[str]:
		from urllib.parse import parse_qs

		return [
			parse_qs(request.body.decode())["logout_token"][0]
			for request in self.requests_to("POST", "/auth/keycloak/backchannel_logout")
		]


@pytest.fixture(scope="session")
def backchannel_receiver():
	with BackchannelReceiver() as receiver:
		yield receiver


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory, backchannel_receiver):
	provider = OIDCProvider(
		tmp_path_factory.mktemp("oidc"),
		clients=[
			{
				"client_id": "dashboard",
				"client_secret": DASHBOARD_SECRET,
				"redirect_uris": [DASHBOARD_CALLBACK],
				"post_logout_redirect_uris": [DASHBOARD_LOGGED_OUT],
				"grant_types": ["authorization_code", "refresh_token"],
				"token_endpoint_auth_method": "client_secret_post",
				"backchannel_logout_uri": f"{backchannel_receiver.url}/auth/keycloak/backchannel_logout",
				"backchannel_logout_session_required": True,
			}
		],
		accounts=[
			{"sub": "alice-sub", "email": "alice@example.test", "email_verified": True, "name": "Alice A"},
			{"sub": "mallory-sub", "email": "alice@example.test", "email_verified": False, "name": "Mallory"},
		],
	)
	try:
		provider.start()
	except MissingBinaryError as error:
		pytest.fail(str(error), pytrace=False)
	yield provider
	provider.stop()
