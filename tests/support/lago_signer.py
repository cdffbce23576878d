"""Signs webhook bodies the way Lago does, with a key pair generated for the test session.

Lago (app/services/webhooks/send_http_service.rb) signs `payload.to_json`: `jwt` is an RS256 token
with claims {data: <body>, iss: <LAGO_API_URL>}; `hmac` is base64(HMAC-SHA256(token, body)).
"""

import base64
import hashlib
import hmac
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class LagoSigner:
	def __init__(self, issuer: str = "http://lago-api:3000", hmac_key: str = "lago-hmac-signature-token"):
		self.issuer = issuer
		self.hmac_key = hmac_key
		self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
		self.public_key_pem = (
			self.private_key.public_key()
			.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
			.decode()
		)

	def hmac_signature(self, body: bytes, key: str | None = None) -> str:
		digest = hmac.new((key or self.hmac_key).encode(), body, hashlib.sha256).digest()
		return base64.b64encode(digest).decode()

	def jwt_signature(self, body: bytes, issuer: str | None = None) -> str:
		claims = {"data": body.decode(), "iss": issuer or self.issuer}
		return jwt.encode(claims, self.private_key, algorithm="RS256")

	def headers(self, body: bytes, algorithm: str = "jwt", unique_key: str | None = None) -> dict[str, str]:
		"""The headers Lago sends with a delivery of `body`."""
		signature = self.jwt_signature(body) if algorithm == "jwt" else self.hmac_signature(body)
		return {
			"Content-Type": "application/json",
			"X-Lago-Signature": signature,
			"X-Lago-Signature-Algorithm": algorithm,
			"X-Lago-Unique-Key": unique_key or str(uuid.uuid4()),
		}
