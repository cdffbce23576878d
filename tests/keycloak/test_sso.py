"""The rules that replace Frappe's open redirect and e-mail matching."""

from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from press_selfhost.errors import AuthenticationError, ConfigurationError
from press_selfhost.identity.keycloak import Identity
from press_selfhost.identity.rules import (
	DASHBOARD_PROVIDER,
	DEFAULT_RETURN_PATH,
	LoginOutcome,
	dashboard_oauth_domains,
	decide_login,
	login_domains,
	safe_return_path,
)

OWN_HOSTS = ("cloud.example.com",)


@pytest.mark.parametrize(
	"requested",
	[
		"/dashboard/sites",
		"/dashboard?x=1#y",
		"https://cloud.example.com/dashboard",
		"http://CLOUD.example.com/x",
	],
)
def test_own_paths_are_kept(requested):
	assert safe_return_path(requested, OWN_HOSTS) == requested


@pytest.mark.parametrize(
	"requested",
	[
		None,
		"",
		"https://evil.example/",
		"//evil.example/dashboard",
		"/\\evil.example",
		"/\tevil",
		"https://cloud.example.com.evil.example/",
		"https://cloud.example.com@evil.example/",
		"https://user@cloud.example.com/",
		"javascript:alert(1)",
		"dashboard",
		"https://cloud.example.com:bad/",
	],
)
def test_other_targets_fall_back_to_the_dashboard(requested):
	assert safe_return_path(requested, OWN_HOSTS) == DEFAULT_RETURN_PATH


@given(st.text(max_size=80))
@example("///evil.example")
@example("https:/\\evil.example")
def test_no_return_path_leaves_our_hosts(requested):
	result = safe_return_path(requested, OWN_HOSTS)
	parts = urlsplit(result)
	assert result in (DEFAULT_RETURN_PATH, requested)
	assert parts.netloc == "" or parts.hostname in OWN_HOSTS
	assert not result.startswith("//") and "\\" not in result


def identity(email="ann@example.com", verified=True):
	return Identity("sub-1", email, verified, "Ann", "Ann", "A", "ann", "kc-session")


def test_the_stored_subject_decides():
	decision = decide_login(identity(verified=False), user_for_subject="ann@old.example", user_for_email=None)
	assert (decision.outcome, decision.user) == (LoginOutcome.KNOWN, "ann@old.example")


def test_existing_user_is_linked_only_by_a_verified_email():
	assert decide_login(identity(), None, "ann@example.com").outcome is LoginOutcome.LINK_EXISTING
	with pytest.raises(AuthenticationError, match="not verified"):
		decide_login(identity(verified=False), None, "ann@example.com")


def test_new_verified_email_creates_a_user():
	decision = decide_login(identity(email="Ann@Example.com"), None, None)
	assert (decision.outcome, decision.user) == (LoginOutcome.CREATE, "ann@example.com")


def test_identity_without_email_is_refused():
	with pytest.raises(AuthenticationError, match="email"):
		decide_login(identity(email=None), None, None)


# -- the dashboard's login page --------------------------------------------------------------------
def test_login_domains_are_read_one_per_line_or_comma_separated():
	text = "Example.com\n@corp.example.org, example.com\n\n  sub.example.net  "
	assert login_domains(text) == ("example.com", "corp.example.org", "sub.example.net")
	assert login_domains(None) == ()
	assert login_domains("  \n") == ()


@pytest.mark.parametrize(
	"bad", ["localhost", "http://example.com", "user@example.com", "-x.example.com", "ex_ample.com"]
)
def test_a_bad_login_domain_is_named(bad):
	with pytest.raises(ConfigurationError, match="is not an e-mail domain"):
		login_domains(f"example.com\n{bad}")


def test_our_domains_are_added_to_presss_and_replace_its_entry_for_the_same_domain():
	press = [
		{"email_domain": "partner.example", "social_login_key": "partner-sso", "provider_name": "Partner"},
		{"email_domain": "Example.com", "social_login_key": "old", "provider_name": "Old"},
	]
	entries = dashboard_oauth_domains(press, ("example.com", "corp.example.org"), "Acme Cloud")
	assert entries == [
		{"email_domain": "partner.example", "social_login_key": "partner-sso", "provider_name": "Partner"},
		{
			"email_domain": "example.com",
			"social_login_key": DASHBOARD_PROVIDER,
			"provider_name": "Acme Cloud",
		},
		{
			"email_domain": "corp.example.org",
			"social_login_key": DASHBOARD_PROVIDER,
			"provider_name": "Acme Cloud",
		},
	]


def test_without_login_domains_presss_entries_stay_as_they_are():
	press = [
		{"email_domain": "partner.example", "social_login_key": "partner-sso", "provider_name": "Partner"}
	]
	assert dashboard_oauth_domains(press, (), "Cloud") == press
