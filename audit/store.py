"""The files of an audit log; the only module of the package that touches the disk.

Layout of a log directory::

    entries.log       magic line, then records: u32 length, u32 CRC-32 of the payload, payload
    checkpoints.log   the same framing; each payload is one signed checkpoint note
    lock              ``flock``-ed: exclusive to write, shared to read
    keys/signing.key  the note private key (0600); keys/vkey, keys/public.pem published
    recovered/        torn tails cut off by recovery, kept for inspection

Appends are written with ``O_APPEND`` and made durable with ``fsync`` before they return.
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from audit.exceptions import IntegrityError, KeyFileError

ENTRIES_MAGIC = b"PDS audit entries v1\n"
CHECKPOINTS_MAGIC = b"PDS audit checkpoints v1\n"
MAX_RECORD = 16 << 20
_HEADER = struct.Struct(">II")
RECORD_HEADER = _HEADER.size
_CHUNK = 8 << 20


def encode_record(payload: bytes) -> bytes:
    """One framed record: length, CRC-32, payload."""
    if not 0 < len(payload) <= MAX_RECORD:
        raise ValueError(f"a record holds 1 to {MAX_RECORD} bytes")
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


class TornRecord(Exception):
    """The file stops being a valid sequence of records at ``offset``."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"{reason} at byte {offset}")
        self.offset = offset
        self.reason = reason


@dataclass
class RecordFile:
    """One append-only file of framed records."""

    path: Path
    magic: bytes
    _fd: int | None = None

    def _append_fd(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def create(self) -> None:
        if self.path.exists():
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, self.magic)
            os.fsync(fd)
        finally:
            os.close(fd)

    @property
    def start(self) -> int:
        return len(self.magic)

    def size(self) -> int:
        """The file's size in bytes (a reader needs no write access)."""
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            raise IntegrityError(f"{self.path} is gone: the log was removed") from None

    def scan(
        self, offset: int | None = None, end: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """Yield ``(offset, payload)`` from ``offset`` up to byte ``end`` (default: the end).

        Raises ``TornRecord`` where the file stops being a sequence of valid records.
        """
        for offsets, payloads in self.chunks(offset, end):
            yield from zip(offsets, payloads, strict=True)

    def chunks(
        self, offset: int | None = None, end: int | None = None
    ) -> Iterator[tuple[list[int], list[bytes]]]:
        """Like ``scan``, many records at a time: ``(offsets, payloads)`` per chunk read.

        The valid records before a broken one are yielded before ``TornRecord`` is raised.
        """
        start = self.start if offset is None else offset
        remaining = -1 if end is None else max(0, end - start)
        with open(self.path, "rb", buffering=0) as f:
            if f.read(len(self.magic)) != self.magic:
                raise IntegrityError(f"{self.path.name} does not start with its magic line")
            f.seek(start)
            buf = b""
            base = start  # file offset of buf[0]
            crc32, unpack_from, header = zlib.crc32, _HEADER.unpack_from, _HEADER.size
            while True:
                chunk = f.read(_CHUNK if remaining < 0 else min(_CHUNK, remaining))
                if remaining > 0:
                    remaining -= len(chunk)
                if not chunk:
                    break
                buf = buf + chunk if buf else chunk
                pos, size = 0, len(buf)
                offsets: list[int] = []
                payloads: list[bytes] = []
                torn = None
                while pos + header <= size:
                    length, crc = unpack_from(buf, pos)
                    if not 0 < length <= MAX_RECORD:
                        torn = TornRecord(base + pos, "record length is out of range")
                        break
                    stop = pos + header + length
                    if stop > size:
                        break
                    payload = buf[pos + header : stop]
                    if crc32(payload) != crc:
                        torn = TornRecord(base + pos, "record checksum does not match")
                        break
                    offsets.append(base + pos)
                    payloads.append(payload)
                    pos = stop
                if offsets:
                    yield offsets, payloads
                if torn is not None:
                    raise torn
                buf = buf[pos:]
                base += pos
            if buf:
                raise TornRecord(base, "incomplete record")

    def payload_batches(self, end: int, count: int = 1 << 16) -> Iterator[list[bytes]]:
        """Every payload up to byte ``end``, in lists of ``count`` (the last one shorter).

        Checksums are not checked here.

        This is the fast path of full verification: each payload's SHA-256 leaf hash is
        checked against signed roots, which a CRC cannot add to. Framing errors still raise
        ``TornRecord``.
        """
        unpack_from, header = _HEADER.unpack_from, _HEADER.size
        with open(self.path, "rb", buffering=0) as f:
            if f.read(len(self.magic)) != self.magic:
                raise IntegrityError(f"{self.path.name} does not start with its magic line")
            base, remaining, buf = len(self.magic), end - len(self.magic), b""
            batch: list[bytes] = []
            while remaining > 0:
                chunk = f.read(min(_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                buf = buf + chunk if buf else chunk
                pos, size = 0, len(buf)
                while pos + header <= size:
                    length = unpack_from(buf, pos)[0]
                    if not 0 < length <= MAX_RECORD:
                        raise TornRecord(base + pos, "record length is out of range")
                    stop = pos + header + length
                    if stop > size:
                        break
                    batch.append(buf[pos + header : stop])
                    pos = stop
                    if len(batch) == count:
                        yield batch
                        batch = []
                buf = buf[pos:]
                base += pos
            if buf or remaining > 0:
                raise TornRecord(base, "incomplete record")
            if batch:
                yield batch

    def record_spans(self, end: int, count: int) -> Iterator[tuple[int, int, int]]:
        """``(start, stop, records)`` of consecutive groups of ``count`` records up to ``end``.

        Only the headers are read; the last group may be shorter.
        """
        unpack_from, header = _HEADER.unpack_from, _HEADER.size
        with open(self.path, "rb", buffering=0) as f:
            if f.read(len(self.magic)) != self.magic:
                raise IntegrityError(f"{self.path.name} does not start with its magic line")
            pos = group_start = len(self.magic)
            records = 0
            while pos < end:
                head = os.pread(f.fileno(), _CHUNK, pos)
                at = 0
                while at + header <= len(head) and pos + at < end:
                    length = unpack_from(head, at)[0]
                    if not 0 < length <= MAX_RECORD or pos + at + header + length > end:
                        raise TornRecord(pos + at, "record length is out of range")
                    at += header + length
                    records += 1
                    if records == count:
                        yield group_start, pos + at, records
                        group_start, records = pos + at, 0
                if at == 0:
                    raise TornRecord(pos, "incomplete record")
                pos += at
            if records:
                yield group_start, pos, records

    def read_payloads(self, start: int, stop: int) -> list[bytes]:
        """The payloads of the whole records between bytes ``start`` and ``stop``."""
        with open(self.path, "rb", buffering=0) as f:
            buf = os.pread(f.fileno(), stop - start, start)
        unpack_from, header = _HEADER.unpack_from, _HEADER.size
        payloads, pos = [], 0
        while pos < len(buf):
            if pos + header > len(buf):
                raise TornRecord(start + pos, "incomplete record")
            length = unpack_from(buf, pos)[0]
            end = pos + header + length
            if not 0 < length <= MAX_RECORD or end > len(buf):
                raise TornRecord(start + pos, "incomplete record")
            payloads.append(buf[pos + header : end])
            pos = end
        return payloads

    def read(self, offset: int) -> bytes:
        """The payload of the record at ``offset``."""
        with open(self.path, "rb", buffering=0) as f:
            head = os.pread(f.fileno(), _HEADER.size, offset)
            length, crc = _HEADER.unpack(head)
            payload = os.pread(f.fileno(), length, offset + _HEADER.size)
        if len(payload) != length or zlib.crc32(payload) != crc:
            raise IntegrityError(f"record at byte {offset} of {self.path.name} is damaged")
        return payload

    def append(self, payloads: list[bytes]) -> list[int]:
        """Append records durably; returns their offsets."""
        data = b"".join(encode_record(p) for p in payloads)
        fd = self._append_fd()
        start = os.fstat(fd).st_size
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        offsets, pos = [], start
        for p in payloads:
            offsets.append(pos)
            pos += _HEADER.size + len(p)
        return offsets

    def cut_tail(self, offset: int, keep_in: Path) -> Path:
        """Move the bytes from ``offset`` on into a file in ``keep_in`` and truncate."""
        keep_in.mkdir(mode=0o700, exist_ok=True)
        saved = keep_in / f"{self.path.stem}-{offset}-{time.time_ns()}.tail"
        with open(self.path, "rb") as f:
            f.seek(offset)
            tail = f.read()
        fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, tail)
            os.fsync(fd)
        finally:
            os.close(fd)
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.ftruncate(fd, offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        return saved


class LogFiles:
    """The files of one log directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.entries = RecordFile(directory / "entries.log", ENTRIES_MAGIC)
        self.checkpoints = RecordFile(directory / "checkpoints.log", CHECKPOINTS_MAGIC)
        self.keys = directory / "keys"
        self.recovered = directory / "recovered"
        self.signing_key = self.keys / "signing.key"
        self.next_signing_key = self.keys / "signing.key.next"
        self.vkey = self.keys / "vkey"
        self.public_pem = self.keys / "public.pem"
        self._lock_path = directory / "lock"
        self._lock_fd: int | None = None

    def exists(self) -> bool:
        return self.entries.path.exists()

    def create(self) -> None:
        """Create the directory and empty record files (keys are written separately)."""
        for directory in (self.directory, self.keys):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
        self.entries.create()
        self.checkpoints.create()
        _fsync_dir(self.directory)

    @contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[None]:
        """Hold the directory's ``flock`` (exclusive for writers, shared for readers)."""
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDONLY | os.O_CREAT, 0o600)
        fd = self._lock_fd
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.entries.close()
        self.checkpoints.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def read_signing_key(self, path: Path | None = None) -> str:
        path = path or self.signing_key
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyFileError(f"no signing key at {path}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(f"signing key {path} is readable by others; chmod 600 it")
        return path.read_text()

    def write_next_signing_key(self, private_key: str) -> None:
        """Write a new signing key beside the current one (0600); ``promote`` makes it current."""
        self.next_signing_key.unlink(missing_ok=True)
        _write_new(self.next_signing_key, private_key.encode(), 0o600)

    def promote_next_signing_key(self, vkey: str, public_pem: bytes) -> None:
        os.replace(self.next_signing_key, self.signing_key)
        self.publish(vkey, public_pem)

    def publish(self, vkey: str, public_pem: bytes) -> None:
        """Write the public key and verifier key string (0600 like every file of the log: the
        portal publishes them)."""
        for path, data in ((self.vkey, (vkey + "\n").encode()), (self.public_pem, public_pem)):
            temp = path.with_suffix(".tmp")
            temp.unlink(missing_ok=True)
            _write_new(temp, data, 0o600)
            os.replace(temp, path)
        _fsync_dir(self.keys)

    def read_vkey(self) -> str:
        try:
            return self.vkey.read_text().strip()
        except FileNotFoundError:
            raise KeyFileError(f"no verifier key at {self.vkey}") from None


def replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` (0600, parent directories 0700) atomically: old or new, never half."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    _write_new(temp, data, 0o600)
    os.replace(temp, path)
    _fsync_dir(path.parent)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
