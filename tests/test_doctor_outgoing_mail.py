"""The doctor's outgoing mail check sends a real message through the local SMTP server."""

import secrets

from press_selfhost.mail.checks import outgoing_mail_check
from press_selfhost.setup.doctor import configured_checks, results_json, run_checks
from tests.support.processes import free_port


def received_by(smtp_server, recipient):
	return [mail for mail in smtp_server.received if recipient in mail.recipients]


def test_outgoing_mail_delivers_a_test_message_to_the_admin(smtp_server):
	admin = f"admin-{secrets.token_hex(4)}@example.test"
	check = outgoing_mail_check(
		"127.0.0.1",
		smtp_server.port,
		smtp_server.username,
		smtp_server.password,
		"press@example.test",
		admin,
	)
	[result] = run_checks([check], [smtp_server.password])
	assert result.ok, result
	assert admin in result.detail
	[mail] = received_by(smtp_server, admin)
	assert mail.mail_from == "press@example.test"
	assert mail.message["Subject"] == "press_selfhost doctor: test message"
	assert mail.authenticated_as == smtp_server.username


def test_outgoing_mail_with_a_wrong_password_fails_without_sending_or_showing_it(smtp_server):
	admin = f"admin-{secrets.token_hex(4)}@example.test"
	password = "wrong-smtp-password-" + secrets.token_hex(4)
	check = outgoing_mail_check(
		"127.0.0.1", smtp_server.port, smtp_server.username, password, "press@example.test", admin
	)
	[result] = run_checks([check], [password])
	assert not result.ok
	assert "refused the login" in result.detail
	assert "postal_smtp_password" in result.fix
	assert password not in results_json([result])
	assert received_by(smtp_server, admin) == []


def test_outgoing_mail_to_an_unreachable_server_says_so():
	check = outgoing_mail_check(
		"127.0.0.1", free_port(), "user", "password", "press@example.test", "admin@example.test", timeout=2
	)
	[result] = run_checks([check])
	assert not result.ok
	assert "did not take the test message" in result.detail
	assert "postal_smtp_host" in result.fix


def test_outgoing_mail_is_checked_only_on_request_and_needs_the_admin_address(smtp_server):
	values = {
		"postal_smtp_host": "127.0.0.1",
		"postal_smtp_port": smtp_server.port,
		"postal_smtp_username": smtp_server.username,
		"postal_smtp_password": smtp_server.password,
		"postal_from_address": "press@example.test",
	}
	names = [check.name for check in configured_checks(values)[0]]
	assert "Outgoing mail" not in names

	checks, _ = configured_checks(values, send_test_mail=True)
	[missing] = [result for result in run_checks(checks) if result.name == "Outgoing mail"]
	assert not missing.ok
	assert "bootstrap_admin_email" in missing.fix

	admin = f"admin-{secrets.token_hex(4)}@example.test"
	checks, secret_values = configured_checks({**values, "bootstrap_admin_email": admin}, send_test_mail=True)
	[sent] = [result for result in run_checks(checks, secret_values) if result.name == "Outgoing mail"]
	assert sent.ok, sent
	assert len(received_by(smtp_server, admin)) == 1
