"""Every platform mail renders in both forms with sample values, refuses missing ones, escapes HTML."""

import subprocess
import sys

import pytest

from press_selfhost.errors import ConfigurationError
from press_selfhost.mail.templates import TEMPLATE_DIR, TEMPLATES, platform_values, render, sample_context

EXPECTED = {
	"verify_email",
	"site_ready",
	"payment_failed",
	"site_suspended",
	"site_resumed",
	"site_archived",
	"invoice_available",
}


def test_the_platform_has_exactly_its_mails_each_with_both_files():
	assert set(TEMPLATES) == EXPECTED
	for name in EXPECTED:
		assert (TEMPLATE_DIR / f"{name}.txt").is_file() and (TEMPLATE_DIR / f"{name}.html").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_template_renders_both_forms_with_its_values(name):
	context = sample_context(name)
	mail = render(name, context)
	assert mail.tag == TEMPLATES[name].tag and mail.tag
	assert mail.subject and "\n" not in mail.subject
	assert mail.html.lstrip().startswith("<!DOCTYPE html>")
	for key, value in context.items():
		assert str(value) in mail.text, f"{name}.txt does not show {key}"
		assert str(value) in mail.html, f"{name}.html does not show {key}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_template_refuses_a_missing_variable(name):
	for missing in set(sample_context(name)) - TEMPLATES[name].optional:
		context = sample_context(name)
		del context[missing]
		with pytest.raises(ConfigurationError, match=missing):
			render(name, context)


def test_the_archived_mail_carries_the_last_backup_link():
	context = sample_context("site_archived")
	mail = render("site_archived", context)
	assert context["backup_url"] in mail.text and context["backup_expires_on"] in mail.text


@pytest.mark.parametrize("with_link", [True, False])
def test_the_archived_mail_needs_an_expiry_date_with_its_link(with_link):
	context = sample_context("site_archived")
	del context["backup_expires_on"]
	if not with_link:
		del context["backup_url"]
	with pytest.raises(ConfigurationError, match="backup_expires_on" if with_link else "backup"):
		render("site_archived", context)


def test_without_a_link_the_archived_mail_sends_the_customer_to_support_for_the_backup():
	context = sample_context("site_archived")
	del context["backup_url"], context["backup_expires_on"]
	kept = render("site_archived", context | {"backup": True})
	for form in (kept.text, kept.html):
		assert "keep it for you" in form and "support@example.com" in form.split("Questions?")[0]
		assert "Download" not in form and "24 December 2026" not in form
	none = render("site_archived", context | {"backup": False})
	for form in (none.text, none.html):
		assert "no backup" in form and "keep it for you" not in form and "Download" not in form


def test_html_escapes_values_but_text_keeps_them():
	context = sample_context("site_ready") | {"site_name": '<script>alert("x")</script>'}
	mail = render("site_ready", context)
	assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
	assert '<script>alert("x")</script>' in mail.text


def test_a_newline_in_a_value_cannot_split_the_subject():
	context = sample_context("site_ready") | {"site_name": "acme\r\nBcc: victim@example.org"}
	assert (
		"\n" not in render("site_ready", context).subject
		and "\r" not in render("site_ready", context).subject
	)


def test_an_unknown_template_is_refused_with_the_known_ones():
	with pytest.raises(ConfigurationError, match="site_ready"):
		render("no_such_mail", {})


def test_preview_command_prints_subject_tag_and_body():
	result = subprocess.run(
		[sys.executable, "-m", "press_selfhost.mail.templates", "site_archived"],
		capture_output=True,
		text=True,
		check=True,
	)
	assert result.stdout.startswith(
		"Subject: Your site acme.example.com has been archived\nTag: site-archived\n"
	)
	assert sample_context("site_archived")["backup_url"] in result.stdout


def test_platform_values_fill_the_site_and_dashboard_links():
	values = platform_values("example.com", "acme.example.com")
	assert values["site_url"] == "https://acme.example.com"
	assert values["dashboard_url"] == "https://cloud.example.com/dashboard/sites/acme.example.com"
	mail = render("site_resumed", {**values, "support_email": "support@example.com"})
	assert "https://acme.example.com" in mail.text and "cloud.example.com" in mail.text
	assert "site_url" not in platform_values("example.com")
