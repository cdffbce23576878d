"""`bench --site <site> press-selfhost …`: Frappe reads the `commands` list of `<app>.commands`.

Every press_selfhost command is a subcommand of the `press-selfhost` click group below; add yours
with `@press_selfhost.command(...)`.
"""

import click
from frappe.commands import get_site, pass_context


@click.group("press-selfhost")
def press_selfhost():
	"""Self-hosting Press: bootstrap its records, check the services."""


@press_selfhost.command("bootstrap")
@click.option("--dry-run", is_flag=True, help="Print the plan without changing anything.")
@pass_context
def bootstrap(context, dry_run=False):
	"""Create or update the Press records self-hosting needs (idempotent), and print what was done."""
	import frappe

	from press_selfhost.errors import ConfigurationError
	from press_selfhost.setup.bootstrap import BootstrapStopped
	from press_selfhost.setup.bootstrap import bootstrap as run_bootstrap
	from press_selfhost.setup.bootstrap_plan import Operation, summary_table

	frappe.init(get_site(context))
	frappe.connect()
	try:
		actions = run_bootstrap(dry_run=dry_run)
	except (ConfigurationError, BootstrapStopped) as error:
		raise click.ClickException(str(error)) from None
	finally:
		frappe.destroy()
	click.echo(summary_table(actions))
	changes = sum(action.operation is not Operation.UNCHANGED for action in actions)
	if dry_run:
		click.echo(f"\nDry run: {changes} of {len(actions)} records would change; nothing was written.")
	else:
		click.echo(f"\n{changes} of {len(actions)} records created or updated.")


@press_selfhost.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
	"--send-test-mail",
	is_flag=True,
	help="Also send a test message through Postal to bootstrap_admin_email (the Outgoing mail check).",
)
@pass_context
def doctor(context, as_json=False, send_test_mail=False):
	"""Check that each service answers as Press will use it; exit non-zero when one does not.

	The results are also stored in Selfhost Service Check for the Selfhost workspace.
	"""
	import frappe

	from press_selfhost.setup.doctor import all_ok, results_json, results_text
	from press_selfhost.setup.service_checks import run_doctor

	frappe.init(get_site(context))
	frappe.connect()
	try:
		results = run_doctor(send_test_mail=send_test_mail)
		frappe.db.commit()
	finally:
		frappe.destroy()
	click.echo(results_json(results) if as_json else results_text(results))
	if not all_ok(results):
		raise SystemExit(1)


@press_selfhost.command("preview-mail")
@click.argument("template")
@click.option("--html", is_flag=True, help="Print the HTML form instead of the text form.")
def preview_mail(template, html=False):
	"""Render one of the platform's mails with sample values (no site needed)."""
	from press_selfhost.mail.templates import main

	raise SystemExit(main([template, *(["--html"] if html else [])]))


commands = [press_selfhost]
