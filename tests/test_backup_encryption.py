"""The backup format: what goes in comes out, and any tampering, truncation or wrong key is refused."""

import io
import os
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from press_selfhost.backups.encryption import (
	HEADER,
	TAG_SIZE,
	BackupHeader,
	BackupKeyring,
	decrypt_stream,
	derive_object_key,
	encrypt_stream,
)
from press_selfhost.errors import BackupIntegrityError, ConfigurationError

KEY = "k" * 40
OLD_KEY = "o" * 40
CHUNK = 64


def encrypt(plaintext: bytes, keyring=None, site="a.example.com", chunk_size=CHUNK) -> bytes:
	header, pieces = encrypt_stream(
		io.BytesIO(plaintext), keyring or BackupKeyring.from_secrets(KEY), site, chunk_size
	)
	encrypted = b"".join(pieces)
	assert len(encrypted) == header.encrypted_size
	return encrypted


def decrypt(encrypted: bytes, keyring=None, site="a.example.com") -> bytes:
	output = io.BytesIO()
	decrypt_stream(io.BytesIO(encrypted), output, keyring or BackupKeyring.from_secrets(KEY), site)
	return output.getvalue()


@given(st.binary(max_size=5 * CHUNK))
def test_round_trip_any_size(plaintext):
	assert decrypt(encrypt(plaintext)) == plaintext


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_round_trip_at_chunk_boundaries(size):
	plaintext = bytes(range(256)) * (size // 256 + 1)
	assert decrypt(encrypt(plaintext[:size])) == plaintext[:size]


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=3 * CHUNK), st.data())
def test_any_flipped_bit_is_refused(plaintext, data):
	encrypted = bytearray(encrypt(plaintext))
	position = data.draw(st.integers(0, len(encrypted) - 1))
	encrypted[position] ^= 1 << data.draw(st.integers(0, 7))
	with pytest.raises(BackupIntegrityError):
		decrypt(bytes(encrypted))


@settings(max_examples=200)
@given(st.binary(max_size=3 * CHUNK), st.data())
def test_any_truncation_is_refused(plaintext, data):
	encrypted = encrypt(plaintext)
	cut = data.draw(st.integers(0, len(encrypted) - 1))
	with pytest.raises(BackupIntegrityError):
		decrypt(encrypted[:cut])


def test_a_whole_final_chunk_dropped_is_refused():
	encrypted = encrypt(b"x" * (2 * CHUNK + 10))
	without_last = encrypted[: HEADER.size + 2 * (CHUNK + TAG_SIZE)]
	with pytest.raises(BackupIntegrityError, match="chunk 2"):
		decrypt(without_last)


def test_reordered_chunks_are_refused():
	encrypted = encrypt(b"a" * CHUNK + b"b" * CHUNK + b"c")
	header, first, second = (
		encrypted[: HEADER.size],
		encrypted[HEADER.size : HEADER.size + CHUNK + TAG_SIZE],
		encrypted[HEADER.size + CHUNK + TAG_SIZE : HEADER.size + 2 * (CHUNK + TAG_SIZE)],
	)
	rest = encrypted[HEADER.size + 2 * (CHUNK + TAG_SIZE) :]
	with pytest.raises(BackupIntegrityError, match="chunk 0"):
		decrypt(header + second + first + rest)


def test_data_appended_after_the_final_chunk_is_refused():
	with pytest.raises(BackupIntegrityError, match="failed authentication"):
		decrypt(encrypt(b"payload") + b"more")
	with pytest.raises(BackupIntegrityError, match="failed authentication"):
		decrypt(encrypt(b"p" * CHUNK) + b"m" * (2 * CHUNK))


def test_a_header_swapped_from_another_backup_is_refused():
	one, other = encrypt(b"same length 1"), encrypt(b"same length 2")
	with pytest.raises(BackupIntegrityError):
		decrypt(other[: HEADER.size] + one[HEADER.size :])


def test_wrong_key_is_refused_with_its_key_id():
	encrypted = encrypt(b"secret data")
	with pytest.raises(BackupIntegrityError, match="none of the configured keys"):
		decrypt(encrypted, BackupKeyring.from_secrets("w" * 40))


def test_another_sites_backup_does_not_decrypt():
	encrypted = encrypt(b"secret data", site="a.example.com")
	with pytest.raises(BackupIntegrityError, match="another site"):
		decrypt(encrypted, site="b.example.com")


def test_not_a_backup_is_refused():
	with pytest.raises(BackupIntegrityError, match="magic"):
		decrypt(b"-- MariaDB dump" + b"\0" * HEADER.size)


def test_after_rotation_old_backups_still_decrypt_and_new_ones_use_the_new_key():
	before_rotation = encrypt(b"old backup", BackupKeyring.from_secrets(OLD_KEY))
	rotated = BackupKeyring.from_secrets(KEY, previous=[OLD_KEY])
	after_rotation = encrypt(b"new backup", rotated)
	assert decrypt(before_rotation, rotated) == b"old backup"
	assert decrypt(after_rotation, rotated) == b"new backup"
	assert BackupHeader.decode(after_rotation).key_id == rotated.current_key_id
	with pytest.raises(BackupIntegrityError, match="previous backup encryption keys"):
		decrypt(before_rotation, BackupKeyring.from_secrets(KEY))


def test_each_object_gets_its_own_salt():
	assert encrypt(b"same")[: HEADER.size] != encrypt(b"same")[: HEADER.size]


def test_short_keys_are_refused_without_echoing_them():
	with pytest.raises(ConfigurationError) as refused:
		BackupKeyring.from_secrets("short-secret")
	assert "short-secret" not in str(refused.value)
	with pytest.raises(ConfigurationError):
		BackupKeyring.from_secrets(KEY, previous=["also-short"])
	assert "current" not in repr(BackupKeyring.from_secrets(KEY)) or KEY not in repr(
		BackupKeyring.from_secrets(KEY)
	)


@pytest.mark.parametrize("change", ["append", "rewrite in place"])
def test_a_file_that_changes_during_upload_is_refused(tmp_path, change):
	path = tmp_path / "database.sql.gz"
	path.write_bytes(b"a" * (3 * CHUNK))
	with open(path, "rb") as source:
		_header, pieces = encrypt_stream(source, BackupKeyring.from_secrets(KEY), "a.example.com", CHUNK)
		next(pieces)
		if change == "append":
			with open(path, "ab") as writer:
				writer.write(b"more")
		else:
			stamp = path.stat().st_mtime_ns
			with open(path, "r+b") as writer:
				writer.write(b"b")
			os.utime(path, ns=(stamp + 1_000_000, stamp + 1_000_000))  # what a writer's clock tick does
		with pytest.raises(BackupIntegrityError, match="changed while"):
			list(pieces)


def test_a_stream_that_grows_during_upload_is_refused():
	source = io.BytesIO(b"a" * (3 * CHUNK))
	_header, pieces = encrypt_stream(source, BackupKeyring.from_secrets(KEY), "a.example.com", CHUNK)
	next(pieces)
	source.seek(0, io.SEEK_END)
	source.write(b"more")
	source.seek(0)
	with pytest.raises(BackupIntegrityError, match="changed while"):
		list(pieces)


def test_header_layout_is_stable():
	assert HEADER.size == struct.calcsize(">4sB8s16sIQ32s") == 73


# Written by the encryption code as it was before chunks were encrypted in place (64-byte chunks, key KEY).
PREVIOUS_RELEASE_BACKUP = bytes.fromhex(
	"5053424b0117dfd463bca38fb80a1e05f21175add793064c0b90d1652e0000004000000000000000c81901da1c9f699b48f6"
	"b2636e65cbf73abf99d0441ef67f5c540a42f7051dec6f9f0a5b035c4dca5bcc7992b8659799118874f1387a4aa2a48dc188"
	"e99f466b3e41818b7afe109649666c6611f7a49d21a96d5ae607873d6e7ecd52ffd736f1c231447e01a83411f8be11ace95a"
	"52806753d42ea4a067a10083907b69a81e47ff791917fa72884302de365e76e6eddba0cddeae37be08623007ab95290333dd"
	"61e9e406d7ebcde0a07b279ab59dde317ea54cc3fe847e37225f5dab8df9abd3f55fda23e59b336ca4709429c3cf870a5d14"
	"1041460b64347dd6aca08b835f4a1d011105e449617f13f29444495c1cf81092a350b618471c8dbc01ef64f8a7130f41e094"
	"a846e2905d850c9789561517292015cb524fd39a758c891da1876e7b9b7b708cdcb1291e8a"
)


def test_backups_written_by_the_previous_release_still_restore():
	assert decrypt(PREVIOUS_RELEASE_BACKUP) == bytes(range(200))


def test_in_place_encryption_writes_exactly_what_aesgcm_writes():
	keyring = BackupKeyring.from_secrets(KEY)
	plaintext = os.urandom(3 * CHUNK + 7)
	header, pieces = encrypt_stream(io.BytesIO(plaintext), keyring, "a.example.com", CHUNK)
	encoded_header = next(pieces)
	cipher = AESGCM(derive_object_key(keyring.current, "a.example.com", header.salt))
	chunks = [plaintext[start : start + CHUNK] for start in range(0, len(plaintext), CHUNK)]
	expected = [
		cipher.encrypt(struct.pack(">Q3xB", index, index == len(chunks) - 1), chunk, encoded_header)
		for index, chunk in enumerate(chunks)
	]
	assert list(pieces) == expected
