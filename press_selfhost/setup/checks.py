"""The doctor's checks of what setup itself needs: MariaDB's root account, with which Press creates
each site's database, and Press's servers and bench, which bootstrap makes ready. Framework-free."""

from collections.abc import Mapping

import pymysql

from press_selfhost.setup.health import Check, CheckFailed

BOOTSTRAP_COMMAND = "bench --site <site> press-selfhost bootstrap"


def mariadb_root_check(host: str, port: int, password: str, *, timeout: float = 5.0) -> Check:
	"""Press creates each new site's database and user with MariaDB's root account."""
	where = f"{host}:{port}"

	def probe() -> str:
		try:
			connection = pymysql.connect(
				host=host,
				port=port,
				user="root",
				password=password,
				connect_timeout=timeout,
				read_timeout=timeout,
			)
		except pymysql.err.OperationalError as error:
			code = error.args[0] if error.args else None
			if code == 1045:
				raise CheckFailed(
					f"MariaDB at {where} refused root's password",
					"Set mariadb_root_password in Selfhost Settings to MariaDB's root password, then run bootstrap.",
				) from None
			raise CheckFailed(
				f"MariaDB at {where} is unreachable (error {code})",
				"Start MariaDB and make database_server_private_ip point at it.",
			) from None
		with connection, connection.cursor() as cursor:
			cursor.execute("SHOW GRANTS FOR CURRENT_USER()")
			grants = " ".join(row[0] for row in cursor.fetchall()).upper()
		if "ALL PRIVILEGES ON *.*" not in grants or "WITH GRANT OPTION" not in grants:
			raise CheckFailed(
				f"root at {where} lacks ALL PRIVILEGES ON *.* WITH GRANT OPTION",
				"Grant root ALL PRIVILEGES ON *.* WITH GRANT OPTION: Press creates a database and a user per site.",
			)
		return f"root can create site databases on {where}"

	return Check("MariaDB root access", probe, timeout=timeout * 3)


def press_records_check(server_statuses: Mapping[str, str], active_benches: int) -> Check:
	"""Press places sites only on Active servers with a bench: bootstrap makes them so once it reaches
	their agents and the bench image (a server it could not reach is Pending, the Bench waits)."""

	def probe() -> str:
		if not server_statuses:
			raise CheckFailed("Press has no servers yet", f"Run: {BOOTSTRAP_COMMAND}")
		waiting = sorted(
			f"{name} ({status})" for name, status in server_statuses.items() if status != "Active"
		)
		if waiting:
			raise CheckFailed(
				f"not Active: {', '.join(waiting)}: bootstrap has not reached their agents",
				f"Start them (the ping and MariaDB lines say why they do not answer), then run: {BOOTSTRAP_COMMAND}",
			)
		if not active_benches:
			raise CheckFailed(
				"Press has no bench: bootstrap waits for the bench image in the registry",
				f"Build and push the bench image named in bench_image, then run: {BOOTSTRAP_COMMAND}",
			)
		return f"{len(server_statuses)} servers Active, {active_benches} bench(es)"

	return Check("Press servers and bench", probe, timeout=5)
