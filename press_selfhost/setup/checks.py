"""The doctor's check of what setup itself needs: MariaDB's root account, with which Press creates
each site's database. Framework-free."""

import pymysql

from press_selfhost.setup.health import Check, CheckFailed


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
