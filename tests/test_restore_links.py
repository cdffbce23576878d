"""Restore links: only an unaltered, unexpired link signed with one of our keys is honoured."""

from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from press_selfhost.backups.encryption import BackupKeyring
from press_selfhost.backups.restore_links import restore_link_query, verify_restore_link
from press_selfhost.errors import RestoreLinkRefusedError

KEYRING = BackupKeyring.from_secrets("current-encryption-key-0123456789abcdef")
SITE = "acme.example.com"
KEY = "sites/acme.example.com/20261124T030000Z/database-db.sql.gz.enc"
EXPIRES = 1_800_000_000


def link(keyring=KEYRING, site=SITE, key=KEY, expires=EXPIRES) -> dict[str, str]:
	return {
		name: values[0] for name, values in parse_qs(restore_link_query(keyring, site, key, expires)).items()
	}


def verify(fields: dict[str, str], keyring=KEYRING, now=EXPIRES - 60) -> None:
	verify_restore_link(
		keyring, fields["site"], fields["key"], fields["expires"], fields["key_id"], fields["signature"], now
	)


def test_a_fresh_link_is_honoured():
	verify(link())


@given(st.sampled_from(["site", "key", "expires", "key_id", "signature"]), st.text(min_size=1, max_size=80))
def test_any_altered_field_is_refused(field, value):
	fields = link()
	if fields[field] == value:
		return
	fields[field] = value
	with pytest.raises(RestoreLinkRefusedError):
		verify(fields)


def test_an_expired_link_is_refused():
	with pytest.raises(RestoreLinkRefusedError, match="expired"):
		verify(link(), now=EXPIRES + 1)


def test_a_link_for_another_sites_object_is_refused_even_when_signed():
	with pytest.raises(RestoreLinkRefusedError, match="another site"):
		verify(link(site="other.example.com"))


def test_links_survive_a_key_rotation_while_the_old_key_is_kept():
	old_link = link()
	rotated = BackupKeyring.from_secrets(
		"the-next-encryption-key-0123456789abcdef", previous=["current-encryption-key-0123456789abcdef"]
	)
	verify(old_link, keyring=rotated)
	with pytest.raises(RestoreLinkRefusedError, match="unknown key"):
		verify(old_link, keyring=BackupKeyring.from_secrets("the-next-encryption-key-0123456789abcdef"))
