"""Postal's send API over a real socket (stand-in), its SMTP (aiosmtpd), and its delivery events."""

import base64
import json
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from press_selfhost.errors import (
	ConfigurationError,
	ServiceError,
	ServiceRejectedError,
	ServiceUnavailableError,
)
from press_selfhost.mail.postal import (
	Attachment,
	OutgoingMail,
	PostalClient,
	PostalEventType,
	SMTPSettings,
	parse_event,
	send_smtp,
)
from press_selfhost.mail.status import MailStatus, delivery_update, next_status, suppression_key
from tests.standins.postal import PostalStandIn, bounce_payload, delivery_payload, message_hash, webhook_body

API_KEY = "postal-standin-api-key"


@pytest.fixture(scope="module")
def postal():
	with PostalStandIn(API_KEY) as stand_in:
		yield stand_in


@pytest.fixture
def client(postal):
	postal.suspended = False
	postal.accepted.clear()
	return PostalClient(postal.url, API_KEY, timeout=2)


def full_mail(**changes) -> OutgoingMail:
	values = {
		"to": ["Ada <ada@customer.test>"],
		"cc": ["cc@customer.test"],
		"bcc": ["audit@example.com"],
		"from_address": "Cloud <cloud@example.com>",
		"sender": "bounces@example.com",
		"reply_to": "support@example.com",
		"subject": "Your site is ready — ça marche",
		"tag": "site_ready",
		"plain_body": "Hello Ada",
		"html_body": "<p>Hello Ada</p>",
		"attachments": [Attachment("invoice.pdf", "application/pdf", b"%PDF-1.4\x00\xff binary")],
		"headers": {"X-Press-Template": "site_ready"},
	}
	return OutgoingMail(**(values | changes))


def test_send_message_round_trip_carries_every_field(client, postal):
	sent = client.send_message(full_mail())

	assert sent.message_id.endswith("@rp.postal.example.com")
	assert set(sent.recipients) == {"Ada <ada@customer.test>", "cc@customer.test", "audit@example.com"}
	(request,) = postal.requests_to("POST", "/api/v1/send/message")
	assert request.headers["X-Server-API-Key"] == API_KEY
	params = request.json()
	assert params["to"] == ["Ada <ada@customer.test>"]
	assert params["cc"] == ["cc@customer.test"] and params["bcc"] == ["audit@example.com"]
	assert params["from"] == "Cloud <cloud@example.com>"
	assert params["sender"] == "bounces@example.com" and params["reply_to"] == "support@example.com"
	assert params["subject"] == "Your site is ready — ça marche" and params["tag"] == "site_ready"
	assert params["plain_body"] == "Hello Ada" and params["html_body"] == "<p>Hello Ada</p>"
	assert params["headers"] == {"X-Press-Template": "site_ready"}
	(attachment,) = params["attachments"]
	assert attachment["name"] == "invoice.pdf" and attachment["content_type"] == "application/pdf"
	assert base64.b64decode(attachment["data"]) == b"%PDF-1.4\x00\xff binary"
	postal.requests.clear()


def test_raw_send_round_trip(client, postal):
	raw = (
		"From: cloud@example.com\r\nTo: ada@customer.test\r\nSubject: raw\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n\r\nHéllo\r\n"
	).encode()

	sent = client.send_raw("bounces@example.com", ["ada@customer.test", "bob@customer.test"], raw)

	assert set(sent.recipients) == {"ada@customer.test", "bob@customer.test"}
	assert {accepted.raw for accepted in postal.accepted} == {raw}
	assert {accepted.message_id for accepted in postal.accepted} == {sent.message_id}


@pytest.mark.parametrize(
	("mail", "code"),
	[
		(full_mail(to=[], cc=[], bcc=[]), "NoRecipients"),
		(full_mail(plain_body=None, html_body=None), "NoContent"),
		(full_mail(to=[f"u{i}@customer.test" for i in range(51)]), "TooManyToAddresses"),
		(full_mail(cc=[f"u{i}@customer.test" for i in range(51)]), "TooManyCCAddresses"),
		(full_mail(bcc=[f"u{i}@customer.test" for i in range(51)]), "TooManyBCCAddresses"),
		(full_mail(from_address=""), "FromAddressMissing"),
		(full_mail(from_address="cloud@not-verified.test"), "UnauthenticatedFromAddress"),
		(full_mail(attachments=[Attachment("", "text/plain", b"x")]), "AttachmentMissingName"),
		(full_mail(attachments=[Attachment("a.txt", "text/plain", b"")]), "AttachmentMissingData"),
	],
)
def test_postal_refusals_of_the_message_are_permanent(client, mail, code):
	with pytest.raises(ServiceRejectedError) as refused:
		client.send_message(mail)
	assert refused.value.code == code and not refused.value.retryable


def test_a_wrong_api_key_is_permanent_and_never_repeated_in_the_error(postal):
	wrong_key = "leaked-secret-key-123"
	with pytest.raises(ServiceRejectedError) as refused:
		PostalClient(postal.url, wrong_key).send_message(full_mail())
	assert refused.value.code == "InvalidServerAPIKey"
	assert wrong_key not in str(refused.value) and wrong_key not in repr(refused.value.args)
	assert "postal_server_api_key" in str(refused.value)


def test_an_unknown_error_echoing_the_key_is_scrubbed(client, postal):
	postal.fail_next(200, body={"status": "error", "data": {"code": "NewCode", "message": f"bad {API_KEY}"}})
	with pytest.raises(ServiceRejectedError) as refused:
		client.send_message(full_mail())
	assert refused.value.code == "NewCode" and API_KEY not in str(refused.value)


def test_raw_parameter_error_is_permanent(client):
	with pytest.raises(ServiceRejectedError) as refused:
		client.send_raw("bounces@example.com", [], b"")
	assert refused.value.code == "parameter-error" and "data" in str(refused.value)


def test_raw_from_an_unverified_domain_is_permanent(client):
	with pytest.raises(ServiceRejectedError) as refused:
		client.send_raw("x@elsewhere.test", ["a@customer.test"], b"From: x@elsewhere.test\r\n\r\nhi")
	assert refused.value.code == "UnauthenticatedFromAddress"


def test_a_suspended_server_is_retryable_and_says_what_to_do(client, postal):
	postal.suspended = True
	with pytest.raises(ServiceUnavailableError) as unavailable:
		client.send_message(full_mail())
	assert unavailable.value.code == "ServerSuspended" and unavailable.value.retryable
	assert "unsuspend" in str(unavailable.value)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_are_retryable(client, postal, status):
	postal.fail_next(status, body="<html>gateway</html>")
	with pytest.raises(ServiceUnavailableError) as unavailable:
		client.send_message(full_mail())
	assert unavailable.value.status_code == status


def test_a_dropped_connection_and_a_timeout_are_retryable(client, postal):
	postal.drop_next()
	with pytest.raises(ServiceUnavailableError):
		client.send_message(full_mail())
	postal.delay_next(1)
	with pytest.raises(ServiceUnavailableError, match="no answer"):
		PostalClient(postal.url, API_KEY, timeout=0.3).send_message(full_mail())


def test_nothing_listening_is_retryable():
	from tests.support.processes import free_port

	with pytest.raises(ServiceUnavailableError, match="could not reach"):
		PostalClient(f"http://127.0.0.1:{free_port()}", API_KEY, timeout=1).send_message(full_mail())


@pytest.mark.parametrize(
	("status", "body"),
	[(404, {"error": "nope"}), (200, "<html>not postal</html>"), (200, {"status": "success"})],
)
def test_something_that_is_not_postal_is_a_permanent_configuration_problem(client, postal, status, body):
	postal.fail_next(status, body=body)
	with pytest.raises(ServiceRejectedError, match="postal_url"):
		client.send_message(full_mail())


def test_missing_settings_are_configuration_errors():
	with pytest.raises(ConfigurationError, match="postal_url"):
		PostalClient("", API_KEY)
	with pytest.raises(ConfigurationError, match="postal_server_api_key"):
		PostalClient("http://postal", "")
	assert API_KEY not in repr(PostalClient("http://postal", API_KEY))


# -- SMTP -------------------------------------------------------------------------------------------
def smtp_settings(server, **changes) -> SMTPSettings:
	values = {
		"host": "127.0.0.1",
		"port": server.port,
		"username": server.username,
		"password": server.password,
	}
	return SMTPSettings(**(values | changes), timeout=5)


def test_smtp_with_frappe_style_settings_delivers_intact(smtp_server):
	message = EmailMessage()
	message["From"] = "Cloud <cloud@example.com>"
	message["To"] = "Zoë <zoe@customer.test>"
	message["Subject"] = "Facture disponible — n° 42"
	message["X-Press-Template"] = "invoice_available"
	message.set_content("Bonjour Zoë,\nvotre facture est prête. ✓\n")
	message.add_attachment(b"%PDF\x00\xffdata", maintype="application", subtype="pdf", filename="facture.pdf")
	before = len(smtp_server.received)

	send_smtp(smtp_settings(smtp_server), message)

	received = smtp_server.received[before]
	assert received.authenticated_as == smtp_server.username
	assert received.recipients == ["zoe@customer.test"]
	got = received.message
	assert str(make_header(decode_header(got["Subject"]))) == "Facture disponible — n° 42"
	assert got["X-Press-Template"] == "invoice_available"
	parts = list(got.walk())
	text = next(p for p in parts if p.get_content_type() == "text/plain")
	assert (
		text.get_payload(decode=True).decode(text.get_content_charset()).replace("\r\n", "\n")
		== "Bonjour Zoë,\nvotre facture est prête. ✓\n"
	)
	pdf = next(p for p in parts if p.get_filename() == "facture.pdf")
	assert pdf.get_payload(decode=True) == b"%PDF\x00\xffdata"


def test_smtp_wrong_password_is_permanent_and_secret_free(smtp_server):
	message = EmailMessage()
	message["From"], message["To"], message["Subject"] = "cloud@example.com", "a@customer.test", "x"
	message.set_content("x")
	with pytest.raises(ServiceRejectedError) as refused:
		send_smtp(smtp_settings(smtp_server, password="wrong-smtp-secret"), message)
	assert "wrong-smtp-secret" not in str(refused.value) and "postal_smtp_password" in str(refused.value)


def test_smtp_unreachable_is_retryable():
	from tests.support.processes import free_port

	message = EmailMessage()
	message["From"], message["To"], message["Subject"] = "cloud@example.com", "a@customer.test", "x"
	message.set_content("x")
	with pytest.raises(ServiceUnavailableError):
		send_smtp(SMTPSettings("127.0.0.1", free_port(), "u", "p", timeout=1), message)


# -- delivery events in the core --------------------------------------------------------------------
def event(kind: str, payload: dict, event_uuid: str = "5f1b0c9e-uuid"):
	return parse_event(webhook_body(kind, payload, event_uuid))


def test_a_bounce_names_the_address_to_suppress():
	update = delivery_update(event("MessageBounced", bounce_payload("m1@rp", "Gone@Customer.test")))
	assert update.message_id == "m1@rp"
	assert update.status is MailStatus.BOUNCED
	assert update.suppress_address == "gone@customer.test"
	assert "bounce received" in update.reason


def test_a_hard_delivery_failure_suppresses_but_a_delay_does_not():
	failed = delivery_update(
		event(
			"MessageDeliveryFailed",
			delivery_payload("m2@rp", "x@customer.test", "HardFail", "550 no such user"),
		)
	)
	delayed = delivery_update(
		event("MessageDelayed", delivery_payload("m2@rp", "x@customer.test", "SoftFail"))
	)
	assert failed.status is MailStatus.FAILED and failed.suppress_address == "x@customer.test"
	assert failed.reason == "550 no such user"
	assert delayed.status is MailStatus.DELAYED and delayed.suppress_address is None


def test_opens_and_clicks_set_flags_without_a_status():
	opened = delivery_update(
		event("MessageLoaded", {"message": message_hash("m3@rp", "a@customer.test"), "ip_address": "1.2.3.4"})
	)
	clicked = delivery_update(
		event("MessageLinkClicked", {"message": message_hash("m3@rp", "a@customer.test"), "url": "https://x"})
	)
	assert opened.opened and not opened.clicked and opened.status is None
	assert clicked.clicked and not clicked.opened


def test_server_events_do_not_touch_messages():
	dns = event("DomainDNSError", {"server": {}, "domain": "example.com", "spf_status": "Missing"})
	limit = event("SendLimitExceeded", {"server": {}, "volume": 101, "limit": 100})
	assert dns.event_type is PostalEventType.DOMAIN_DNS_ERROR and delivery_update(dns) is None
	assert limit.event_type is PostalEventType.SEND_LIMIT_EXCEEDED and delivery_update(limit) is None


def test_postal_uuid_is_the_dedupe_key():
	body = webhook_body(
		"MessageSent", delivery_payload("m4@rp", "a@customer.test", "Sent"), "uuid-from-postal-1"
	)
	assert parse_event(body).dedupe_key == "uuid-from-postal-1"
	assert parse_event(body).dedupe_key == json.loads(body)["uuid"]


@pytest.mark.parametrize(
	("current", "incoming", "kept"),
	[
		(None, MailStatus.DELIVERED, MailStatus.DELIVERED),
		(MailStatus.SENT, MailStatus.DELAYED, MailStatus.DELAYED),
		(MailStatus.DELIVERED, MailStatus.DELAYED, MailStatus.DELIVERED),
		(MailStatus.DELIVERED, MailStatus.BOUNCED, MailStatus.BOUNCED),
		("Bounced", MailStatus.DELIVERED, MailStatus.BOUNCED),
		("Held", None, MailStatus.HELD),
	],
)
def test_late_events_never_undo_a_later_state(current, incoming, kept):
	assert next_status(current, incoming) is kept


@pytest.mark.parametrize(
	("recipient", "key"),
	[
		("Ada <Ada@Customer.TEST>", "ada@customer.test"),
		(" zoe@customer.test ", "zoe@customer.test"),
		("not an address", None),
		("", None),
		("root@localhost", None),
	],
)
def test_suppression_key_is_the_bare_lower_case_address(recipient, key):
	assert suppression_key(recipient) == key


json_answers = st.recursive(
	st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
	lambda children: (
		st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
	),
	max_leaves=15,
)
postal_like_answers = st.fixed_dictionaries(
	{
		"status": st.sampled_from(["success", "error", "parameter-error", "other"]),
		"data": st.fixed_dictionaries(
			{},
			optional={
				"code": json_answers,
				"message": json_answers,
				"message_id": st.text(max_size=20) | st.integers(),
				"messages": st.dictionaries(
					st.text(max_size=10),
					st.fixed_dictionaries({}, optional={"id": json_answers, "token": json_answers}),
					max_size=3,
				),
			},
		),
	}
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=json_answers | postal_like_answers, status=st.sampled_from([200, 200, 200, 404, 500]))
def test_fuzz_any_answer_gives_a_sent_message_or_one_of_our_errors(client, postal, answer, status):
	postal.fail_next(status, body=answer)
	try:
		sent = client.send_message(full_mail())
	except ServiceError as error:
		assert error.retryable == (status == 500 or error.code == "ServerSuspended")
		assert API_KEY not in str(error)
	else:
		assert isinstance(sent.message_id, str)
		assert all(isinstance(copy.id, int) for copy in sent.recipients.values())


def test_verify_api_key_proves_the_key_without_sending_anything(client, postal):
	client.verify_api_key()
	assert postal.accepted == []
	with pytest.raises(ServiceRejectedError) as refused:
		PostalClient(postal.url, "wrong-postal-key", timeout=2).verify_api_key()
	assert refused.value.code == "InvalidServerAPIKey"
	assert "wrong-postal-key" not in str(refused.value)
