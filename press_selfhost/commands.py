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

	from press_selfhost.bootstrap import bootstrap as run_bootstrap
	from press_selfhost.bootstrap_plan import Operation, summary_table
	from press_selfhost.errors import ConfigurationError

	frappe.init(get_site(context))
	frappe.connect()
	try:
		actions = run_bootstrap(dry_run=dry_run)
	except ConfigurationError as error:
		raise click.ClickException(str(error)) from error
	finally:
		frappe.destroy()
	click.echo(summary_table(actions))
	changes = sum(action.operation is not Operation.UNCHANGED for action in actions)
	if dry_run:
		click.echo(f"\nDry run: {changes} of {len(actions)} records would change; nothing was written.")
	else:
		click.echo(f"\n{changes} of {len(actions)} records created or updated.")


commands = [press_selfhost]
