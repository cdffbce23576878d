"""Exactly-once receipt against the real MariaDB: the Webhook Event table as Frappe creates it, 50 racers."""

import json
import secrets
import threading
from pathlib import Path

import pymysql
import pytest

from press_selfhost.webhooks.delivery import (
	MAX_BODY_BYTES,
	BodyRefused,
	check_body,
	check_length,
	inbox_key,
	is_duplicate_entry,
	retry_delay_seconds,
)

DOCTYPE = (
	Path(__file__).parent.parent / "press_selfhost/press_selfhost/doctype/webhook_event/webhook_event.json"
)
# frappe/database/mariadb/database.py type_map, for the field types the inbox uses.
COLUMN_TYPES = {
	"Data": "varchar(140)",
	"Select": "varchar(140)",
	"Int": "int(11)",
	"Datetime": "datetime(6)",
	"Code": "longtext",
	"Long Text": "longtext",
}


def frappe_create_table(doctype: dict) -> str:
	"""The DDL frappe.database.mariadb.schema.MariaDBTable.create runs for `doctype`."""
	columns = []
	for field in doctype["fields"]:
		column_type = COLUMN_TYPES.get(field["fieldtype"])
		if column_type is None:
			assert field["fieldtype"] in ("Section Break", "Column Break"), field
			continue
		definition = f"`{field['fieldname']}` {column_type}"
		if field["fieldtype"] == "Int":
			definition += f" NOT NULL DEFAULT {int(field.get('default') or 0)}"
		elif field.get("default"):
			definition += f" DEFAULT '{field['default']}'"
		if field.get("unique") and column_type != "longtext":
			definition += " UNIQUE"
		columns.append(definition)
	optional = ["`_user_tags` text", "`_comments` text", "`_assign` text", "`_liked_by` text"]
	return f"""create table `tab{doctype["name"]}` (
		name varchar(140) primary key,
		creation datetime(6),
		modified datetime(6),
		modified_by varchar(140),
		owner varchar(140),
		docstatus tinyint not null default '0',
		idx int not null default '0',
		{", ".join(columns + optional)},
		index creation(creation))
		ENGINE=InnoDB ROW_FORMAT=DYNAMIC CHARACTER SET=utf8mb4 COLLATE=utf8mb4_unicode_ci"""


@pytest.fixture
def inbox_database(mariadb_server):
	database = mariadb_server.create_database("inbox_" + secrets.token_hex(4))
	with mariadb_server.connect(database) as connection, connection.cursor() as cursor:
		cursor.execute(frappe_create_table(json.loads(DOCTYPE.read_text())))
	return database


def receive(connection, unique_key: str, payload: bytes) -> bool:
	"""What the Frappe shell's inbox.receive does, as SQL: Frappe's INSERT with a fresh hash name."""
	row = {
		"name": secrets.token_hex(5),  # Frappe's autoname "hash"
		"creation": "2026-11-24 12:00:00",
		"modified": "2026-11-24 12:00:00",
		"source": "Lago",
		"unique_key": inbox_key("Lago", unique_key),
		"event_type": "invoice.payment_status_updated",
		"status": "Received",
		"payload": payload.decode(),
	}
	columns = ", ".join(f"`{column}`" for column in row)
	try:
		with connection.cursor() as cursor:
			cursor.execute(
				f"INSERT INTO `tabWebhook Event` ({columns}) VALUES ({', '.join(['%s'] * len(row))})",  # noqa: S608 (column names are ours, values are parameters)
				list(row.values()),
			)
		connection.commit()
		return True
	except pymysql.IntegrityError as error:
		connection.rollback()
		if is_duplicate_entry(error, key="unique_key"):
			return False
		raise


def test_the_same_delivery_posted_50_times_concurrently_is_received_once(mariadb_server, inbox_database):
	racers = 50
	connections = [mariadb_server.connect(inbox_database) for _ in range(racers)]
	start = threading.Barrier(racers)
	outcomes: list[object] = []
	lock = threading.Lock()

	def deliver(connection):
		start.wait()
		try:
			outcome = receive(connection, "9a1f6c3e-0c1b-4bde-8d43-5a4e0f6f0e11", b'{"webhook_type": "x"}')
		except Exception as error:  # recorded, so a stray failure shows up in the assertion below
			outcome = error
		with lock:
			outcomes.append(outcome)

	threads = [threading.Thread(target=deliver, args=(connection,)) for connection in connections]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join(30)
	for connection in connections:
		connection.close()

	assert sorted(outcomes, key=str) == [False] * (racers - 1) + [True]
	with mariadb_server.connect(inbox_database) as connection, connection.cursor() as cursor:
		cursor.execute("SELECT COUNT(*) FROM `tabWebhook Event`")
		assert cursor.fetchone() == (1,)


def test_a_different_delivery_is_received_and_another_unique_violation_is_not_a_duplicate(
	mariadb_server, inbox_database
):
	with mariadb_server.connect(inbox_database) as connection:
		assert receive(connection, "first", b"{}")
		assert receive(connection, "second", b"{}")
		with connection.cursor() as cursor:
			cursor.execute("INSERT INTO `tabWebhook Event` (name, unique_key) VALUES ('n1', 'k1')")
			with pytest.raises(pymysql.IntegrityError) as raised:
				cursor.execute("INSERT INTO `tabWebhook Event` (name, unique_key) VALUES ('n1', 'k2')")
	assert is_duplicate_entry(raised.value)  # a name collision is a duplicate entry...
	assert not is_duplicate_entry(raised.value, key="unique_key")  # ...but not the same delivery


class FrappeStyleUniqueValidationError(Exception):
	"""Shaped like frappe.UniqueValidationError(doctype, name, driver_error), raised from the driver's."""


def test_duplicates_wrapped_by_frappe_are_recognised(mariadb_server, inbox_database):
	with mariadb_server.connect(inbox_database) as connection:
		receive(connection, "key", b"{}")
		with connection.cursor() as cursor, pytest.raises(pymysql.IntegrityError) as raised:
			cursor.execute(
				"INSERT INTO `tabWebhook Event` (name, unique_key) VALUES ('other', %s)",
				[inbox_key("Lago", "key")],
			)
	wrapped = FrappeStyleUniqueValidationError("Webhook Event", "other", raised.value)
	assert is_duplicate_entry(wrapped, key="unique_key")
	assert not is_duplicate_entry(ValueError("Duplicate entry"))
	assert not is_duplicate_entry(pymysql.OperationalError(2013, "Lost connection"))


def test_inbox_key_is_prefixed_by_source_and_bounded():
	assert inbox_key("Lago", "abc") == "lago:abc"
	assert inbox_key("Postal", "abc") != inbox_key("Lago", "abc")
	with pytest.raises(ValueError, match="longer"):
		inbox_key("Lago", "k" * 136)


def test_retries_back_off_then_stop():
	delays = [retry_delay_seconds(attempts) for attempts in range(1, 12)]
	assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, None, None]


@pytest.mark.parametrize(
	("body", "status", "reason"),
	[
		(b"", 400, "empty body"),
		(b"  \n", 400, "empty body"),
		(b'{"webhook_type": "\xff"}', 400, "body is not UTF-8"),
		(b"{not json", 400, "body is not JSON"),
		(b'["a", "list"]', 400, "body is not a JSON object"),
		(b'"' + b"x" * MAX_BODY_BYTES + b'"', 413, f"body larger than {MAX_BODY_BYTES} bytes"),
	],
)
def test_bodies_no_sender_signs_are_refused_before_verification(body, status, reason):
	with pytest.raises(BodyRefused) as refused:
		check_body(body)
	assert (refused.value.http_status, refused.value.reason) == (status, reason)


def test_a_json_object_passes_and_a_declared_oversize_is_refused_unread():
	check_body(b'{"webhook_type": "invoice.created"}')
	check_length(None)  # chunked: the read body is checked instead
	check_length(MAX_BODY_BYTES)
	with pytest.raises(BodyRefused) as refused:
		check_length(MAX_BODY_BYTES + 1)
	assert refused.value.http_status == 413
