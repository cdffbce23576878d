"""Cost of verifying and parsing a 2 KB Lago webhook, as a ratio to the bare cryptographic primitive.

For each scheme the baseline is measured in the same run: `hmac.new(key, body, sha256).digest()` for
HMAC, `jwt.decode(token, key, algorithms=["RS256"])` with an already loaded key for JWT. Target ≤ 1.5x.
Run: .venv/bin/python bench/webhook_verify.py
"""

import hashlib
import hmac
import json
import statistics
import sys
import time
from pathlib import Path

import jwt
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from press_selfhost.integrations.lago import _public_key, verify_webhook
from tests.support.lago_signer import LagoSigner

TARGET = 1.5
ROUNDS, CALLS = 31, 200


def two_kb_event() -> bytes:
	invoice = {
		"lago_id": "inv-1",
		"payment_status": "succeeded",
		"customer": {"external_id": "team-1"},
		"fees": [],
	}
	payload = {"webhook_type": "invoice.payment_status_updated", "object_type": "invoice", "invoice": invoice}
	while len(json.dumps(payload)) < 2048:
		invoice["fees"].append(
			{"lago_id": f"fee-{len(invoice['fees'])}", "amount_cents": 1000, "units": "1.0"}
		)
	return json.dumps(payload).encode()


def median_seconds(call) -> float:
	samples = []
	for _ in range(ROUNDS):
		started = time.perf_counter()
		for _ in range(CALLS):
			call()
		samples.append((time.perf_counter() - started) / CALLS)
	return statistics.median(samples)


def main() -> int:
	signer = LagoSigner()
	body = two_kb_event()
	hmac_headers = signer.headers(body, "hmac", unique_key="bench")
	jwt_headers = signer.headers(body, "jwt", unique_key="bench")
	key = _public_key(signer.public_key_pem.encode())
	token = jwt_headers["X-Lago-Signature"]

	figures = {
		"hmac": (
			median_seconds(lambda: verify_webhook(body, hmac_headers, hmac_key=signer.hmac_key)),
			median_seconds(lambda: hmac.new(signer.hmac_key.encode(), body, hashlib.sha256).digest()),
		),
		"jwt": (
			median_seconds(
				lambda: verify_webhook(
					body, jwt_headers, public_key_pem=signer.public_key_pem, issuer=signer.issuer
				)
			),
			median_seconds(lambda: jwt.decode(token, key, algorithms=["RS256"])),
		),
	}
	# Parsing the body is work no verifier can skip; shown so the overhead beyond it is visible.
	parse = median_seconds(lambda: orjson.loads(body))
	print(f"2 KB event ({len(body)} bytes), median of {ROUNDS} rounds x {CALLS} calls")
	print(f"parsing the body alone (orjson.loads): {parse * 1e6:.1f} µs")
	for scheme, (ours, primitive) in figures.items():
		ratio = ours / primitive
		print(
			f"{scheme:5} verify+parse {ours * 1e6:8.1f} µs   primitive {primitive * 1e6:8.1f} µs   "
			f"ratio {ratio:.2f}x ({'meets' if ratio <= TARGET else 'misses'} ≤ {TARGET}x)   "
			f"vs primitive+parse {ours / (primitive + parse):.2f}x"
		)
	return 0


if __name__ == "__main__":
	sys.exit(main())
