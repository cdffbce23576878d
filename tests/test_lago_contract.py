"""The check that holds LagoGateway and the Lago stand-in to Lago's OpenAPI spec catches what it must,
and excuses only the spec's own named defects."""

import json
import uuid

import httpx
import pytest

from tests.standins.lago import LagoStandIn
from tests.support.lago_contract import KNOWN_SPEC_DEFECTS, request_violations, response_violations

AUTH = {"Authorization": "Bearer key", "Content-Type": "application/json"}
INVOICE_ID = "1a901a90-1a90-1a90-1a90-1a901a901a90"


def _request(method: str, path: str, body: object = None) -> list[str]:
	encoded = json.dumps(body).encode() if body is not None else b""
	return request_violations(method, f"/api/v1{path}", {}, AUTH, encoded)


def _answer(method: str, path: str, status: int, answer: object) -> list[str]:
	encoded = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
	return response_violations(method, f"/api/v1{path}", {}, AUTH, b"", status, "application/json", encoded)


def _event(value: object) -> dict:
	event = {"transaction_id": "t-1", "external_subscription_id": "s", "code": "c", "timestamp": 1}
	return {"events": [{**event, "properties": {"value": value}}]}


def test_every_spec_defect_is_named():
	assert len({defect.name for defect in KNOWN_SPEC_DEFECTS}) == len(KNOWN_SPEC_DEFECTS) == 3
	assert all(defect.why for defect in KNOWN_SPEC_DEFECTS)


def test_a_request_lago_does_not_allow_is_caught():
	assert any("external_id" in v for v in _request("POST", "/customers", {"customer": {"name": "x"}}))
	assert _request("POST", "/subscriptions", {"subscription": {"plan_code": 5}})
	assert _request("GET", "/invoices/not-a-lago-id")
	assert _request("GET", "/no-such-endpoint")
	assert not _request("POST", "/customers", {"customer": {"external_id": "4f1c2ab39d"}})


def test_put_without_ending_at_is_excused_but_nothing_else_on_it():
	assert not _request("PUT", "/subscriptions/shop.example.com", {"subscription": {"name": "Shop"}})
	assert _request("PUT", "/subscriptions/shop.example.com", {"subscription": {"name": 5}})
	assert _request("PUT", "/subscriptions/shop.example.com", {"nothing": {}})


def test_an_integer_event_property_is_excused_an_object_is_not():
	assert not _request("POST", "/events/batch", _event(3))
	assert not _request("POST", "/events/batch", _event(2.5))
	assert _request("POST", "/events/batch", _event({"nested": 1}))


def test_an_answer_lago_would_not_give_is_caught():
	missing = _answer("DELETE", "/subscriptions/s", 200, {"subscription": {"lago_id": str(uuid.uuid4())}})
	assert any("'plan_code' is a required property" in violation for violation in missing)
	assert _answer("GET", f"/invoices/{INVOICE_ID}", 404, {"error": "no route"})  # not Lago's error shape
	assert not _answer(
		"GET", f"/invoices/{INVOICE_ID}", 404, {"status": 404, "error": "Not Found", "code": "x"}
	)


def test_the_queued_pdfs_empty_200_is_excused_only_on_download():
	assert not _answer("POST", f"/invoices/{INVOICE_ID}/download", 200, b"")
	assert _answer("GET", f"/invoices/{INVOICE_ID}", 200, b"")


def test_a_null_file_url_is_excused_another_type_is_not():
	with LagoStandIn() as lago:
		invoice = lago.add_invoice("4f1c2ab39d")
		answer = {"invoice": invoice}
		assert not _answer("GET", f"/invoices/{invoice['lago_id']}", 200, answer)
		invoice["file_url"] = 5
		assert any("file_url" in v for v in _answer("GET", f"/invoices/{invoice['lago_id']}", 200, answer))


def test_the_stand_in_refuses_a_bad_request_and_fails_whoever_did_not_check():
	lago = LagoStandIn().start()
	answer = httpx.post(
		f"{lago.url}/api/v1/customers",
		json={"customer": {}},
		headers={"Authorization": f"Bearer {lago.api_key}"},
	)
	assert answer.status_code == 400 and answer.json() == {"status": 400, "error": "Bad Request"}
	assert lago.customers == {}
	with pytest.raises(AssertionError, match="external_id"):
		lago.stop()
