"""Selfhost Settings validation: the rules, and that they name fields the DocType really has."""

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from press_selfhost.errors import ConfigurationError
from press_selfhost.identity.keycloak_admin import TwoFactor
from press_selfhost.setup.settings import (
	REQUIRED_TOGETHER,
	URL_FIELDS,
	settings_problems,
	url_problem,
	validate_settings,
)

DOCTYPE = json.loads(
	(
		Path(__file__).resolve().parent.parent
		/ "press_selfhost/press_selfhost/doctype/selfhost_settings/selfhost_settings.json"
	).read_text()
)
FIELDS = {field["fieldname"]: field for field in DOCTYPE["fields"]}

COMPLETE = {
	"domain": "example.com",
	"lago_api_url": "http://lago-api:3000",
	"lago_front_url": "https://billing.example.com",
	"lago_api_key": "lago-key",
	"lago_webhook_signature_algorithm": "hmac",
	"lago_hmac_key": "hmac-key",
	"keycloak_url": "https://auth.example.com",
	"keycloak_realm": "cloud",
	"keycloak_client_id": "press-dashboard",
	"keycloak_client_secret": "client-secret",
	"keycloak_admin_username": "admin",
	"keycloak_admin_password": "admin-password",
	"postal_url": "http://postal-web:5000",
	"postal_server_api_key": "postal-key",
	"postal_from_address": "cloud@example.com",
	"postal_smtp_host": "postal-smtp",
	"postal_smtp_port": 25,
	"postal_smtp_password": "smtp-key",
	"minio_endpoint_url": "http://minio:9000",
	"minio_access_key": "access",
	"minio_secret_key": "secret",
	"backups_bucket": "backups",
	"backup_encryption_key": "encryption-key",
	"agent_url": "https://f1.example.com/agent",
	"agent_password": "agent-password",
}


def test_rules_name_real_fields_of_the_doctype():
	for fieldname in URL_FIELDS:
		assert FIELDS[fieldname]["fieldtype"] == "Data"
	for rule in REQUIRED_TOGETHER:
		for fieldname in (rule.trigger, *rule.requires):
			assert fieldname in FIELDS, fieldname


def test_two_factor_options_are_the_realm_policys_values():
	"""bootstrap_realm reads the option as TwoFactor(value): an option it cannot read fails there."""
	assert FIELDS["keycloak_two_factor"]["options"].split("\n") == [policy.value for policy in TwoFactor]
	assert TwoFactor(FIELDS["keycloak_two_factor"]["default"]) is TwoFactor.OPTIONAL


def test_every_secret_is_a_password_field():
	secrets = [
		name
		for name in FIELDS
		if name.endswith(("_password", "_secret", "_api_key", "_secret_key", "_token"))
	]
	secrets += ["lago_hmac_key", "backup_encryption_key", "keycloak_client_secret"]
	for fieldname in secrets:
		assert FIELDS[fieldname]["fieldtype"] == "Password", fieldname


def test_complete_and_empty_settings_are_valid():
	validate_settings(COMPLETE)
	validate_settings({})


@pytest.mark.parametrize(
	("changes", "expected"),
	[
		({"lago_api_key": ""}, "Lago: lago_api_url is set, so lago_api_key must be set too."),
		({"lago_hmac_key": None}, "webhooks are signed with HMAC, so lago_hmac_key must be set"),
		(
			{"minio_secret_key": "", "backup_encryption_key": ""},
			"so minio_secret_key, backup_encryption_key must be set too",
		),
		({"keycloak_client_secret": "  "}, "keycloak_client_secret must be set too"),
		({"postal_from_address": "not-an-address"}, "'not-an-address' is not an e-mail address"),
		({"postal_smtp_port": 70000}, "between 1 and 65535"),
		({"domain": "https://example.com"}, "is not a host name"),
		({"lago_api_url": "ftp://lago"}, "Lago API URL: 'ftp://lago' must start with http:// or https://"),
		({"minio_endpoint_url": "http://"}, "MinIO endpoint URL: 'http://' has no host"),
		({"agent_url": "https://f1.example.com:99999"}, "is not a valid URL"),
		({"postal_url": "http://postal/?debug=1"}, "must not have a query string"),
		(
			{"keycloak_login_domains": "example.com\nhttp://corp.example"},
			"'http://corp.example' in keycloak_login_domains is not an e-mail domain",
		),
	],
)
def test_each_problem_is_reported(changes, expected):
	problems = settings_problems({**COMPLETE, **changes})
	assert any(expected in problem for problem in problems), problems
	with pytest.raises(ConfigurationError, match=re.escape(expected)):
		validate_settings({**COMPLETE, **changes})


def test_credentials_in_a_url_are_refused_without_echoing_them():
	problems = settings_problems({**COMPLETE, "keycloak_url": "https://admin:hunter2@auth.example.com"})
	assert problems == ["Keycloak URL: must not contain a user name or password; use the credential fields."]


def test_all_problems_are_reported_at_once():
	problems = settings_problems(
		{"lago_api_url": "http://lago", "agent_url": "http://agent", "domain": "Bad Domain"}
	)
	assert len(problems) == 3


@given(st.text())
def test_url_problem_never_raises(url):
	assert url_problem(url) is None or isinstance(url_problem(url), str)
