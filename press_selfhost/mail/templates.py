"""The platform's transactional mails: Jinja files in templates/mail/, each a plain-text and an HTML form.

Framework-free so that every template is rendered in CI. A missing variable is an error, never an
empty hole in a customer's mail; the HTML form is autoescaped because site names come from users.
Each `<name>.txt` sets the subject with `{% set subject %}…{% endset %}`; `<name>.html` extends
`_layout.html`. Preview one with sample values: `python -m press_selfhost.mail.templates site_ready`.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, UndefinedError

from press_selfhost.errors import ConfigurationError

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"

COMMON_SAMPLE = {"platform_name": "Example Cloud", "support_email": "support@example.com"}


@dataclass(frozen=True)
class MailTemplate:
	name: str
	tag: str  # Postal's tag: lets the admin filter Postal's message list and our log by kind
	sample: dict
	optional: frozenset[str] = frozenset()  # sample values the mail can do without (it says otherwise)


TEMPLATES = {
	template.name: template
	for template in (
		MailTemplate(
			"verify_email",
			"verify-email",
			{"verification_link": "https://cloud.example.com/verify/3f9a1c", "expires_in_hours": 24},
		),
		MailTemplate(
			"site_ready",
			"site-ready",
			{
				"site_name": "acme.example.com",
				"site_url": "https://acme.example.com",
				"dashboard_url": "https://cloud.example.com/dashboard/sites/acme.example.com",
			},
		),
		MailTemplate(
			"payment_failed",
			"payment-failed",
			{
				"site_name": "acme.example.com",
				"amount": "EUR 25.00",
				"invoice_number": "INV-2026-0042",
				"suspend_on": "1 December 2026",
				"payment_url": "https://billing.example.com/invoices/INV-2026-0042",
			},
		),
		MailTemplate(
			"site_suspended",
			"site-suspended",
			{
				"site_name": "acme.example.com",
				"reason": "invoice INV-2026-0042 is unpaid",
				"payment_url": "https://billing.example.com/invoices/INV-2026-0042",
			},
		),
		MailTemplate(
			"site_resumed",
			"site-resumed",
			{"site_name": "acme.example.com", "site_url": "https://acme.example.com"},
		),
		MailTemplate(
			"site_archived",
			"site-archived",
			{
				"site_name": "acme.example.com",
				"backup_url": "https://s3.example.com/backups/acme.example.com/last.tar.gz?X-Amz-Signature=abc",
				"backup_expires_on": "24 December 2026",
			},
			# without a download link, the `backup` flag says whether support keeps a final backup
			optional=frozenset({"backup_url"}),
		),
		MailTemplate(
			"invoice_available",
			"invoice-available",
			{
				"invoice_number": "INV-2026-0043",
				"period": "November 2026",
				"amount": "EUR 25.00",
				"invoice_url": "https://billing.example.com/invoices/INV-2026-0043",
			},
		),
	)
}


@dataclass(frozen=True)
class RenderedMail:
	subject: str
	text: str
	html: str
	tag: str


_loader = FileSystemLoader(str(TEMPLATE_DIR))
_text_environment = Environment(loader=_loader, undefined=StrictUndefined, autoescape=False)  # noqa: S701 (plain text)
_html_environment = Environment(loader=_loader, undefined=StrictUndefined, autoescape=True)


def render(template: str, context: dict) -> RenderedMail:
	"""Both forms of `template` with `context`; ConfigurationError names what is missing or unknown."""
	known = TEMPLATES.get(template)
	if known is None:
		raise ConfigurationError(f"Mail template '{template}' does not exist; known: {', '.join(TEMPLATES)}.")
	try:
		text_module = _text_environment.get_template(f"{template}.txt").make_module(context)
		html = _html_environment.get_template(f"{template}.html").render(context)
	except UndefinedError as error:
		raise ConfigurationError(
			f"Mail template '{template}': {error.message}; pass it in the context."
		) from None
	except TemplateNotFound as error:
		raise ConfigurationError(f"Mail template '{template}': file {error.name} is missing.") from None
	# A subject is one header line: a newline in a site name must not become a header injection.
	subject = " ".join(str(text_module.subject).split())
	return RenderedMail(subject, str(text_module).strip() + "\n", html, known.tag)


def platform_values(domain: str, site: str | None = None) -> dict:
	"""Values every mail may use that follow from the platform's domain and the site concerned.

	The lifecycle's notify commands name the site as `site`; the links into Press's dashboard are
	derived here so that callers pass only what they alone know (amounts, dates, backup links).
	"""
	dashboard = f"https://cloud.{domain}/dashboard"
	values = {
		"platform_name": f"cloud.{domain}",
		"dashboard_url": dashboard,
		"payment_url": f"{dashboard}/billing",
		"invoice_url": f"{dashboard}/billing/invoices",
	}
	if site:
		values.update(site_name=site, site_url=f"https://{site}", dashboard_url=f"{dashboard}/sites/{site}")
	return values


def sample_context(template: str) -> dict:
	return {**COMMON_SAMPLE, **TEMPLATES[template].sample}


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(
		prog="python -m press_selfhost.mail.templates",
		description="Render a mail template with sample values.",
	)
	parser.add_argument("template", choices=sorted(TEMPLATES))
	parser.add_argument("--html", action="store_true", help="print the HTML form instead of the text form")
	arguments = parser.parse_args(argv)
	mail = render(arguments.template, sample_context(arguments.template))
	sys.stdout.write(f"Subject: {mail.subject}\nTag: {mail.tag}\n\n")
	sys.stdout.write(mail.html if arguments.html else mail.text)
	return 0


if __name__ == "__main__":
	raise SystemExit(main())
