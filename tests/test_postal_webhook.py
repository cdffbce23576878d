"""Postal webhook signatures: vectors signed with a real RSA key, and fuzzing of everything else."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from press_selfhost.errors import ConfigurationError, WebhookVerificationError
from press_selfhost.mail.postal import PostalEventType, load_public_key, verify_webhook
from tests.standins.postal import PostalSigner, bounce_payload, delivery_payload, webhook_body

SIGNER = PostalSigner()
OTHER_SIGNER = PostalSigner()
BODY = webhook_body("MessageSent", delivery_payload("m1@rp", "ada@customer.test", "Sent"), "uuid-1")


def verify(body=BODY, headers=None, **options):
	options.setdefault("public_key_pem", SIGNER.public_key_pem)
	return verify_webhook(body, SIGNER.headers(body) if headers is None else headers, **options)


def test_postal_3_2_headers_verify_with_sha256():
	event = verify()
	assert event.event_type is PostalEventType.MESSAGE_SENT
	assert event.uuid == "uuid-1" and event.message.message_id == "m1@rp"
	assert event.message.to == "ada@customer.test"


def test_header_names_are_case_insensitive():
	headers = {"x-postal-signature-256": SIGNER.sign_sha256(BODY)}
	assert verify(headers=headers).uuid == "uuid-1"


def test_the_dkim_p_value_works_as_the_key():
	assert verify(public_key_pem=SIGNER.dkim_p_value).uuid == "uuid-1"


def test_sha1_only_is_refused_unless_allowed():
	headers = {"X-Postal-Signature": SIGNER.sign_sha1(BODY)}
	with pytest.raises(WebhookVerificationError, match="SHA-1"):
		verify(headers=headers)
	assert verify(headers=headers, allow_sha1=True).uuid == "uuid-1"


def test_a_bad_sha256_signature_is_not_rescued_by_a_good_sha1():
	headers = SIGNER.headers(BODY) | {"X-Postal-Signature-256": OTHER_SIGNER.sign_sha256(BODY)}
	with pytest.raises(WebhookVerificationError, match="does not match"):
		verify(headers=headers, allow_sha1=True)


def test_sha1_signature_in_the_sha256_header_is_refused():
	with pytest.raises(WebhookVerificationError):
		verify(headers={"X-Postal-Signature-256": SIGNER.sign_sha1(BODY)})


def test_wrong_key_is_refused():
	with pytest.raises(WebhookVerificationError, match="does not match"):
		verify(headers=OTHER_SIGNER.headers(BODY))
	with pytest.raises(WebhookVerificationError):
		verify(headers={"X-Postal-Signature": OTHER_SIGNER.sign_sha1(BODY)}, allow_sha1=True)


def test_tampered_body_is_refused():
	tampered = BODY.replace(b"ada@customer.test", b"eve@customer.test")
	with pytest.raises(WebhookVerificationError, match="does not match"):
		verify(body=tampered, headers=SIGNER.headers(BODY))


def test_missing_signature_is_refused():
	with pytest.raises(WebhookVerificationError, match="no X-Postal-Signature-256"):
		verify(headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("signature", ["not base64!!", "QUJD=x", "", "é"])
def test_malformed_base64_is_refused(signature):
	with pytest.raises(WebhookVerificationError):
		verify(headers={"X-Postal-Signature-256": signature})


def test_a_truncated_signature_is_refused():
	signature = base64.b64decode(SIGNER.sign_sha256(BODY))[:-1]
	with pytest.raises(WebhookVerificationError):
		verify(headers={"X-Postal-Signature-256": base64.b64encode(signature).decode()})


@pytest.mark.parametrize(
	"document",
	[
		[1, 2],
		{"event": "MessageSent", "timestamp": 1.0, "payload": {"message": {}}, "uuid": "u"},
		{"event": "NoSuchEvent", "timestamp": 1.0, "payload": {}, "uuid": "u"},
		{"event": "MessageSent", "timestamp": 1.0, "payload": {}},
		{"event": "DomainDNSError", "timestamp": "now", "payload": {}, "uuid": "u"},
		{"event": "DomainDNSError", "timestamp": 1.0, "payload": [], "uuid": "u"},
	],
)
def test_signed_but_malformed_events_are_refused(document):
	body = json.dumps(document).encode()
	with pytest.raises(WebhookVerificationError):
		verify(body=body)


def test_signed_non_json_is_refused():
	with pytest.raises(WebhookVerificationError, match="not JSON"):
		verify(body=b"\xff\xfe not json")


def test_every_event_type_parses():
	payloads = {
		"MessageBounced": bounce_payload("m@rp", "a@customer.test"),
		"DomainDNSError": {"domain": "example.com"},
		"SendLimitApproaching": {"volume": 90, "limit": 100},
		"SendLimitExceeded": {"volume": 101, "limit": 100},
	}
	for event_type in PostalEventType:
		payload = payloads.get(event_type.value, delivery_payload("m@rp", "a@customer.test", "Sent"))
		body = webhook_body(event_type.value, payload, f"uuid-{event_type.value}")
		event = verify(body=body)
		assert event.event_type is event_type and event.dedupe_key == f"uuid-{event_type.value}"


def test_a_missing_or_unusable_key_is_a_configuration_error():
	with pytest.raises(ConfigurationError, match="not set"):
		verify(public_key_pem="")
	with pytest.raises(ConfigurationError, match="PEM"):
		load_public_key("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----")
	ec_key = (
		ec.generate_private_key(ec.SECP256R1())
		.public_key()
		.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
	)
	with pytest.raises(ConfigurationError, match="RSA"):
		load_public_key(ec_key)


header_values = st.one_of(
	st.text(max_size=400), st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
	body=st.binary(max_size=2000),
	headers=st.dictionaries(
		st.sampled_from(["X-Postal-Signature-256", "X-Postal-Signature", "x-postal-signature-256", "Other"]),
		header_values,
		max_size=4,
	),
	allow_sha1=st.booleans(),
)
def test_fuzz_arbitrary_input_gives_an_event_or_a_refusal(body, headers, allow_sha1):
	try:
		event = verify_webhook(body, headers, public_key_pem=SIGNER.public_key_pem, allow_sha1=allow_sha1)
	except WebhookVerificationError as refusal:
		assert refusal.reason
	else:  # only a body we signed could get here, and random bytes are never one
		pytest.fail(f"accepted an unsigned body: {event}")


json_values = st.recursive(
	st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=20),
	lambda children: (
		st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
	),
	max_leaves=20,
)
message_like = st.dictionaries(
	st.sampled_from(["message_id", "to", "direction"]), st.text(max_size=10) | st.integers()
)
event_like = st.fixed_dictionaries(
	{
		"event": st.sampled_from([event_type.value for event_type in PostalEventType]),
		"uuid": st.text(max_size=50),
		"timestamp": st.floats(allow_nan=False) | st.text(max_size=5),
		"payload": st.dictionaries(st.sampled_from(["message", "original_message", "details"]), message_like),
	}
)


@settings(max_examples=150, deadline=None)
@given(document=json_values | event_like)
def test_fuzz_signed_documents_of_any_shape_give_an_event_or_a_refusal(document):
	body = json.dumps(document).encode()
	try:
		event = verify(body=body)
	except WebhookVerificationError as refusal:
		assert refusal.reason
	else:
		assert event.uuid.strip() and isinstance(event.timestamp, float)
