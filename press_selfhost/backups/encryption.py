"""Client-side encryption of backups: a streaming, chunked AES-256-GCM format that detects tampering,
truncation and reordering, with a key id in the header so ENCRYPTION_KEY can be rotated.

Format (version 1), all integers big-endian:

    header = b"PSBK" | version (1 byte) | key id (8) | salt (16) | chunk size (4)
             | plaintext size (8) | plaintext SHA-256 (32)
    chunks = AES-256-GCM(chunk i) for i = 0, 1, ..., each `chunk size` bytes of plaintext + 16-byte tag,
             except the last one, which always holds fewer than `chunk size` bytes (possibly none)

The object key is HKDF-SHA256(ENCRYPTION_KEY, salt, "press_selfhost/backup/v1/<site>"): a fresh
random salt per object gives every object its own key, so the nonce can be a plain counter. The nonce
is the chunk counter (8 bytes), three zero bytes and a final-chunk flag; the header is the associated
data of every chunk. A chunk moved, dropped, or cut, a changed header or a wrong key or site all make
the authentication fail. The key id (an HMAC of ENCRYPTION_KEY, not the key) tells which of the
configured keys opens an object, so old backups stay readable after a rotation.
"""

import hashlib
import hmac
import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from press_selfhost.errors import BackupIntegrityError, ConfigurationError

MAGIC = b"PSBK"
VERSION = 1
HEADER = struct.Struct(">4sB8s16sIQ32s")
TAG_SIZE = 16
DEFAULT_CHUNK_SIZE = 1024 * 1024
READ_SIZE = 1024 * 1024
MINIMUM_SECRET_LENGTH = 32


@dataclass(frozen=True)
class BackupHeader:
	"""What an encrypted object says about itself; authenticated as part of every chunk."""

	key_id: bytes
	salt: bytes
	chunk_size: int
	plaintext_size: int
	plaintext_sha256: bytes

	def encode(self) -> bytes:
		return HEADER.pack(
			MAGIC,
			VERSION,
			self.key_id,
			self.salt,
			self.chunk_size,
			self.plaintext_size,
			self.plaintext_sha256,
		)

	@classmethod
	def decode(cls, data: bytes) -> "BackupHeader":
		if len(data) < HEADER.size:
			raise BackupIntegrityError("The backup is shorter than its header: it is truncated or not ours.")
		magic, version, key_id, salt, chunk_size, size, digest = HEADER.unpack(data[: HEADER.size])
		if magic != MAGIC:
			raise BackupIntegrityError("The object is not a press_selfhost encrypted backup (bad magic).")
		if version != VERSION:
			raise BackupIntegrityError(f"Backup format version {version} is not supported by this version.")
		if chunk_size <= 0:
			raise BackupIntegrityError("The backup header is corrupt (chunk size 0).")
		return cls(key_id, salt, chunk_size, size, digest)

	@property
	def encrypted_size(self) -> int:
		full_chunks = self.plaintext_size // self.chunk_size
		return HEADER.size + self.plaintext_size + (full_chunks + 1) * TAG_SIZE


@dataclass(frozen=True)
class BackupKeyring:
	"""The current ENCRYPTION_KEY (encrypts) and the previous ones (still decrypt), by key id."""

	current: bytes = field(repr=False)
	previous: tuple[bytes, ...] = field(default=(), repr=False)

	@classmethod
	def from_secrets(cls, current: str, previous: Iterable[str] = ()) -> "BackupKeyring":
		secrets = [current, *(secret for secret in previous if secret.strip())]
		for secret in secrets:
			if len(secret.strip()) < MINIMUM_SECRET_LENGTH:
				raise ConfigurationError(
					f"Backups: every backup encryption key must be at least {MINIMUM_SECRET_LENGTH} characters "
					"(generate one with `openssl rand -base64 32`)."
				)
		return cls(secrets[0].strip().encode(), tuple(secret.strip().encode() for secret in secrets[1:]))

	@property
	def current_key_id(self) -> bytes:
		return key_id(self.current)

	def secret_for(self, wanted_key_id: bytes) -> bytes:
		for secret in (self.current, *self.previous):
			if hmac.compare_digest(key_id(secret), wanted_key_id):
				return secret
		raise BackupIntegrityError(
			f"The backup was encrypted with key id {wanted_key_id.hex()}, which is none of the configured keys "
			f"(current key id {self.current_key_id.hex()}). If ENCRYPTION_KEY was rotated, add the old key to "
			"the previous backup encryption keys in Selfhost Settings."
		)


def key_id(secret: bytes) -> bytes:
	"""A public fingerprint of a secret: tells keys apart without revealing them."""
	return hmac.new(secret, b"press_selfhost/backup/key-id", hashlib.sha256).digest()[:8]


def derive_object_key(secret: bytes, site: str, salt: bytes) -> bytes:
	return HKDF(
		algorithm=hashes.SHA256(), length=32, salt=salt, info=b"press_selfhost/backup/v1/" + site.encode()
	).derive(secret)


def _nonce(counter: int, final: bool) -> bytes:
	return struct.pack(">Q3xB", counter, 1 if final else 0)


def plaintext_digest(source: BinaryIO, buffer: bytearray) -> tuple[int, bytes]:
	"""(size, SHA-256) of a seekable source, read through `buffer`; leaves it at the start."""
	digest = hashlib.sha256()
	size = 0
	source.seek(0)
	with memoryview(buffer) as view:
		while count := source.readinto(view):
			digest.update(view[:count])
			size += count
	source.seek(0)
	return size, digest.digest()


class StreamEncryptor:
	"""Encrypts a seekable source chunk by chunk straight into buffers the caller owns.

	Plaintext goes through one small buffer and no chunk is allocated or copied on the way, so an
	uploader can cycle a few part-sized buffers for a file of any size. The source is hashed first
	(its SHA-256 goes into the header); if it changes between that pass and the encryption (its
	size, or for a file its modification time or inode), the final chunk raises instead of producing
	a backup that lies. Hashing the encryption pass as well would be exact but costs a second full
	pass of CPU; a changed file would still be refused at restore.
	"""

	def __init__(self, source: BinaryIO, keyring: BackupKeyring, site: str, chunk_size: int):
		self._source = source
		self._before = _file_state(source)
		self._plaintext = bytearray(READ_SIZE)
		size, digest = plaintext_digest(source, self._plaintext)
		self.header = BackupHeader(keyring.current_key_id, os.urandom(16), chunk_size, size, digest)
		self.encoded_header = self.header.encode()
		self._key = derive_object_key(keyring.current, site, self.header.salt)
		self._counter = 0
		self._size = 0
		self.finished = False

	def encrypt_next_into(self, output: memoryview) -> int:
		"""Encrypt the next chunk into `output` (at least chunk size + TAG_SIZE bytes); how many bytes it took.

		The same bytes as `AESGCM.encrypt` of the whole chunk (ciphertext, then tag), written in place.
		"""
		if self.finished:
			raise ValueError("the final chunk was already encrypted")
		# The size is known from the hashing pass, so whether this chunk is the final one is too.
		length = min(self.header.chunk_size, self.header.plaintext_size - self._size)
		final = length < self.header.chunk_size
		encryptor = Cipher(algorithms.AES(self._key), modes.GCM(_nonce(self._counter, final))).encryptor()
		encryptor.authenticate_additional_data(self.encoded_header)
		written = 0
		with memoryview(self._plaintext) as plaintext:
			while written < length:
				count = self._source.readinto(plaintext[: min(len(plaintext), length - written)])
				if not count:
					raise _changed_during_upload()
				# update_into wants 15 bytes of slack past what it writes: the tag's place provides it.
				written += encryptor.update_into(
					plaintext[:count], output[written : written + count + TAG_SIZE]
				)
		encryptor.finalize()
		output[written : written + TAG_SIZE] = encryptor.tag
		self._counter += 1
		self._size += length
		if final:
			self.finished = True
			if self._source.read(1) or _file_state(self._source) != self._before:
				raise _changed_during_upload()
		return written + TAG_SIZE


def _changed_during_upload() -> BackupIntegrityError:
	return BackupIntegrityError(
		"The backup file changed while it was being uploaded; take the backup again before shipping it."
	)


def encrypt_stream(
	source: BinaryIO, keyring: BackupKeyring, site: str, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> tuple[BackupHeader, Iterator[bytes]]:
	"""The header and an iterator of encrypted pieces (header first), reading `source` one chunk at a time.

	The source must be seekable and is hashed now (see `StreamEncryptor`).
	"""
	encryptor = StreamEncryptor(source, keyring, site, chunk_size)
	return encryptor.header, _encrypted_pieces(encryptor)


def _file_state(source: BinaryIO) -> tuple[int, int, int] | None:
	try:
		status = os.fstat(source.fileno())
	except (AttributeError, OSError, ValueError):  # not a file (io.BytesIO raises UnsupportedOperation)
		return None
	return (status.st_size, status.st_mtime_ns, status.st_ino)


def _encrypted_pieces(encryptor: StreamEncryptor) -> Iterator[bytes]:
	yield encryptor.encoded_header
	while not encryptor.finished:
		piece = bytearray(encryptor.header.chunk_size + TAG_SIZE)
		with memoryview(piece) as view:
			length = encryptor.encrypt_next_into(view)
		del piece[length:]
		yield bytes(piece)


def decrypt_stream(
	source: BinaryIO, destination: BinaryIO, keyring: BackupKeyring, site: str
) -> BackupHeader:
	"""Decrypt `source` into `destination` chunk by chunk and verify everything; raise BackupIntegrityError.

	Plaintext is written as each chunk authenticates, so on an error the destination holds an
	unverified prefix that the caller must discard (`storage.download_backup_file` does).
	"""
	header, chunks = decrypted_chunks(source, keyring, site)
	for chunk in chunks:
		destination.write(chunk)
	return header


def decrypted_chunks(
	source: BinaryIO, keyring: BackupKeyring, site: str
) -> tuple[BackupHeader, Iterator[bytes]]:
	"""The header (read and checked now) and an iterator of authenticated plaintext chunks.

	Each chunk is only yielded once authenticated; a truncated or reordered object raises before
	its end, and the iterator raises unless the whole plaintext matches the header's SHA-256.
	"""
	encoded_header = _read_exactly(source, HEADER.size)
	header = BackupHeader.decode(encoded_header)
	cipher = AESGCM(derive_object_key(keyring.secret_for(header.key_id), site, header.salt))
	return header, _decrypted_pieces(source, cipher, encoded_header, header)


def _decrypted_pieces(
	source: BinaryIO, cipher: AESGCM, encoded_header: bytes, header: BackupHeader
) -> Iterator[bytes]:
	digest = hashlib.sha256()
	size = 0
	counter = 0
	while True:
		piece = _read_exactly(source, header.chunk_size + TAG_SIZE)
		final = len(piece) < header.chunk_size + TAG_SIZE
		try:
			chunk = cipher.decrypt(_nonce(counter, final), piece, encoded_header)
		except InvalidTag:
			raise BackupIntegrityError(
				f"Backup chunk {counter} failed authentication: the object was tampered with or truncated, "
				"or it belongs to another site. Do not restore it; use another backup."
			) from None
		digest.update(chunk)
		size += len(chunk)
		counter += 1
		if final:
			if size != header.plaintext_size or not hmac.compare_digest(
				digest.digest(), header.plaintext_sha256
			):
				raise BackupIntegrityError("The decrypted backup does not match the checksum in its header.")
			yield chunk
			return
		yield chunk


def _read_exactly(source: BinaryIO, size: int) -> bytes:
	"""Up to `size` bytes, fewer only at the end of the stream (network streams return short reads)."""
	data = source.read(size)
	if len(data) == size or not data:
		return data
	parts = [data]
	remaining = size - len(data)
	while remaining and (more := source.read(remaining)):
		parts.append(more)
		remaining -= len(more)
	return b"".join(parts)
