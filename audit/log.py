"""``AuditLog``: the append-only, signed Merkle log of audit events, safe across processes.

Appends from threads of one process share one ``fsync`` (group commit: the first waiting
thread writes everything queued). Across processes an exclusive ``flock`` surrounds each batch,
and before writing, a process first reads what others appended. Readers take a shared lock and
see every entry any process has made durable.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit import keys
from audit.checkpoint import Checkpoint, NoteSigner
from audit.config import AuditSettings
from audit.events import KEY_ROTATED, TAIL_RECOVERED, AuditEvent
from audit.exceptions import Error, ForkError, IntegrityError, NotFound, VerificationError
from audit.hasher import EMPTY_ROOT, hash_leaf
from audit.proof import consistency_proof, inclusion_proof
from audit.store import RECORD_HEADER, LogFiles, TornRecord
from audit.tree import MerkleTree
from audit.verify import verify_consistency

EVIDENCE_FORMAT = "pds-audit-evidence/v1"

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint as stored: its size, root and signed note text."""

    size: int
    root: bytes
    note: str


class _Batch:
    """Payloads of one ``append_many`` call, waiting for the leader of a group commit.

    ``ready`` is a lock taken at creation; whoever finishes or hands over the batch releases
    it (a plain lock is much cheaper to wait on than an ``Event``).
    """

    __slots__ = ("error", "indices", "lead", "payloads", "ready")

    def __init__(self, payloads: list[bytes]) -> None:
        self.payloads = payloads
        self.indices: list[int] = []
        self.error: BaseException | None = None
        self.lead = False
        self.ready = threading.Lock()
        self.ready.acquire()


class AuditLog:
    """An audit log in one directory; open it with ``AuditLog.open``."""

    def __init__(self, files: LogFiles, origin: str, checkpoint_seconds: float) -> None:
        self._files = files
        self.origin = origin
        self._checkpoint_seconds = checkpoint_seconds
        self._tree = MerkleTree()
        self._offsets = array("Q")
        self._entries_end = files.entries.start
        self._checkpoints: list[SignedCheckpoint] = []
        self._checkpoints_end = files.checkpoints.start
        self._io = threading.RLock()
        self._queue: list[_Batch] = []
        self._leader = False
        self._queue_lock = threading.Lock()
        self._last_signed = time.monotonic()
        self._broken: str | None = None
        self._closed = False
        self.group_commits = 0
        """How many fsynced writes ``append``/``append_many`` needed so far (in this process)."""

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        origin: str = "pds.local/audit",
        checkpoint_seconds: float | None = None,
    ) -> AuditLog:
        """Open the log in ``directory``; create it, its keys (0600) and an empty log if missing.

        After an append, a checkpoint is signed when the last one is older than
        ``checkpoint_seconds`` (default ``PDS_AUDIT_CHECKPOINT_SECONDS``, 60).

        A torn tail left by a crash is cut off (and kept under ``recovered/``) unless that would
        drop entries covered by a signed checkpoint, which raises ``IntegrityError`` instead.
        """
        if checkpoint_seconds is None:
            checkpoint_seconds = AuditSettings().audit_checkpoint_seconds
        files = LogFiles(Path(directory))
        files.create()
        log = cls(files, origin, checkpoint_seconds)
        try:
            with files.locked(exclusive=True):
                log._open_locked()
        except BaseException:
            files.close()
            raise
        return log

    def _open_locked(self) -> None:
        files = self._files
        never_signed = files.checkpoints.size() == files.checkpoints.start
        if not files.signing_key.exists() and never_signed:
            signer, private = keys.new_signing_key(self.origin)
            files.write_next_signing_key(private)
            files.promote_next_signing_key(
                signer.verifier.vkey, keys.public_key_pem(signer.verifier)
            )
        signer = self._signer()
        if signer.name != self.origin:
            raise Error(
                f"the log in {files.directory} has origin {signer.name!r}, not {self.origin!r}"
            )
        self._catch_up_to_write()
        self._finish_rotation()
        if not self._checkpoints:
            self._sign_locked()

    def close(self) -> None:
        """Sign a checkpoint if the tree grew, then release the files."""
        if self._closed:
            return
        try:
            if self._broken is None:
                self.checkpoint()
        finally:
            self._closed = True
            self._files.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading the files

    def _catch_up(self, *, exclusive: bool) -> dict[str, Any] | None:
        """Read what other processes appended; under an exclusive lock, cut a torn tail.

        Returns what recovery cut off, if anything, to be recorded as an entry.
        """
        recovered: dict[str, Any] = {}
        new_checkpoints: list[SignedCheckpoint] = []
        entries_size = self._files.entries.size()
        checkpoints_size = self._files.checkpoints.size()
        if entries_size < self._entries_end or checkpoints_size < self._checkpoints_end:
            raise IntegrityError("the log files shrank while open: entries were deleted")
        if entries_size == self._entries_end and checkpoints_size == self._checkpoints_end:
            return None
        try:
            for offset, payload in self._files.checkpoints.scan(self._checkpoints_end):
                note = payload.decode()
                cp = Checkpoint.parse(note.partition("\n\n")[0] + "\n")
                new_checkpoints.append(SignedCheckpoint(cp.size, cp.root, note))
                self._checkpoints_end = offset + RECORD_HEADER + len(payload)
        except (TornRecord, UnicodeDecodeError, VerificationError) as torn:
            if exclusive:
                saved = self._files.checkpoints.cut_tail(
                    self._checkpoints_end, self._files.recovered
                )
                recovered["checkpoints"] = {"reason": str(torn), "saved_as": saved.name}
        self._checkpoints.extend(new_checkpoints)
        signed = self._checkpoints[-1].size if self._checkpoints else 0
        hashes: list[bytes] = []
        try:
            for offsets, payloads in self._files.entries.chunks(self._entries_end):
                self._offsets.extend(offsets)
                hashes += [hash_leaf(payload) for payload in payloads]
                self._entries_end = offsets[-1] + RECORD_HEADER + len(payloads[-1])
        except TornRecord as torn:
            size = self._tree.size + len(hashes)
            if size < signed:
                raise IntegrityError(
                    f"entries.log breaks at entry {size} ({torn}) but a checkpoint of size "
                    f"{signed} is signed: the log was damaged or truncated"
                ) from None
            if exclusive:
                saved = self._files.entries.cut_tail(torn.offset, self._files.recovered)
                recovered["entries"] = {
                    "at_entry": size,
                    "reason": str(torn),
                    "saved_as": saved.name,
                }
        self._tree.extend(hashes)
        if signed > self._tree.size:
            raise IntegrityError(
                f"the log has {self._tree.size} entries but a checkpoint of size {signed} "
                "is signed: entries were deleted"
            )
        for stored in new_checkpoints:
            if self._tree.root(stored.size) != stored.root:
                raise IntegrityError(f"the log does not match its checkpoint of size {stored.size}")
        return recovered or None

    def _catch_up_to_write(self) -> None:
        """Catch up under the exclusive lock; record any torn tail it cut as an entry."""
        recovered = self._catch_up(exclusive=True)
        if recovered is not None:
            event = AuditEvent(TAIL_RECOVERED, "system", details=recovered)
            self._write([event.canonical_json()])

    def _refresh(self) -> None:
        if self._closed:
            raise Error("the audit log is closed")
        with self._io, self._files.locked(exclusive=False):
            self._catch_up(exclusive=False)

    def _signer(self) -> NoteSigner:
        return keys.decode_private_key(self._files.read_signing_key())

    # ------------------------------------------------------------------ appending

    def append(self, event: AuditEvent) -> int:
        """Record one event; returns its index once it is on disk (fsynced)."""
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[int]:
        """Record events in order; returns their indices once they are on disk."""
        if not events:
            return []
        batch = _Batch([e.canonical_json() for e in events])
        with self._queue_lock:
            self._queue.append(batch)
            batch.lead = not self._leader
            self._leader = True
        if not batch.lead:
            batch.ready.acquire()
        if batch.lead:
            self._lead()
        if batch.error is not None:
            raise batch.error
        return batch.indices

    def _lead(self) -> None:
        """Commit everything queued, then hand the lead to the first batch queued meanwhile."""
        with self._queue_lock:
            batches, self._queue = self._queue, []
        try:
            self._commit(batches)
        finally:
            with self._queue_lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].ready.release()
                else:
                    self._leader = False
            for b in batches:
                if b.lead:  # the leader itself, not waiting
                    b.lead = False
                else:
                    b.ready.release()

    def _commit(self, batches: list[_Batch]) -> None:
        """Write every queued batch under one lock and one fsync (the group commit)."""
        try:
            with self._io, self._files.locked(exclusive=True):
                self._check_writable()
                self._catch_up_to_write()
                indices = self._write([p for b in batches for p in b.payloads])
                self.group_commits += 1
                if time.monotonic() - self._last_signed >= self._checkpoint_seconds:
                    self._sign_in_passing()
            for b in batches:
                b.indices, indices = indices[: len(b.payloads)], indices[len(b.payloads) :]
        except BaseException as exc:
            for b in batches:
                b.error = exc

    def _sign_in_passing(self) -> None:
        """The periodic checkpoint after an append: the entries are durable whatever happens."""
        try:
            self._sign_locked()
        except Error:
            self._last_signed = time.monotonic()  # try again after the next interval
            _logger.exception("could not sign the periodic checkpoint of the audit log")

    def _check_writable(self) -> None:
        if self._closed:
            raise Error("the audit log is closed")
        if self._broken is not None:
            raise IntegrityError(f"the audit log stopped after a failed write: {self._broken}")

    def _write(self, payloads: list[bytes]) -> list[int]:
        """Append payloads durably (locks held); returns their indices."""
        try:
            offsets = self._files.entries.append(payloads)
        except OSError as exc:
            self._broken = str(exc)
            raise
        first = self._tree.size
        self._offsets.extend(offsets)
        self._tree.extend([hash_leaf(p) for p in payloads])
        self._entries_end = offsets[-1] + RECORD_HEADER + len(payloads[-1])
        return list(range(first, first + len(payloads)))

    # ------------------------------------------------------------------ checkpoints

    def checkpoint(self) -> str:
        """The signed checkpoint of the current tree; signs a new one if the tree grew."""
        with self._io, self._files.locked(exclusive=True):
            self._check_writable()
            self._catch_up_to_write()
            return self._sign_locked().note

    def _sign_locked(self, extra: Sequence[NoteSigner] = ()) -> SignedCheckpoint:
        """Sign the current tree unless already signed (locks held).

        Refuses (``ForkError``) when the tree does not extend the last signed checkpoint.
        """
        if not extra:
            self._finish_rotation()  # another process may have died while rotating
        size = self._tree.size
        latest = self._checkpoints[-1] if self._checkpoints else None
        if latest is not None and latest.size == size and not extra:
            return latest
        root = self._tree.root()
        if latest is not None:
            self._check_extends(latest, size, root)
        note = Checkpoint(self.origin, size, root).sign([self._signer(), *extra])
        offsets = self._files.checkpoints.append([note.encode()])
        self._checkpoints_end = offsets[0] + RECORD_HEADER + len(note.encode())
        signed = SignedCheckpoint(size, root, note)
        self._checkpoints.append(signed)
        self._last_signed = time.monotonic()
        return signed

    def _check_extends(self, old: SignedCheckpoint, size: int, root: bytes) -> None:
        try:
            if old.size == 0:
                if old.root != EMPTY_ROOT:
                    raise VerificationError("the signed empty checkpoint has a wrong root")
            else:
                proof = consistency_proof(self._tree, old.size, size)
                verify_consistency(old.size, size, old.root, root, proof)
        except VerificationError as exc:
            raise ForkError(f"refusing to sign a checkpoint of size {size}: {exc}") from None

    @property
    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every stored signed checkpoint, oldest first."""
        self._refresh()
        return list(self._checkpoints)

    def checkpoint_at(self, size: int) -> SignedCheckpoint:
        """The stored signed checkpoint of exactly ``size`` entries."""
        for cp in reversed(self.checkpoints):
            if cp.size == size:
                return cp
        raise NotFound(f"no checkpoint of size {size} was signed")

    def vkey(self) -> str:
        """The verifier key string of the current signing key."""
        return self._files.read_vkey()

    def public_key_pem(self) -> bytes:
        return self._files.public_pem.read_bytes()

    # ------------------------------------------------------------------ key rotation

    def rotate_key(self, actor: str) -> str:
        """Replace the signing key; the rotation is an entry, signed by both keys.

        Returns the new verifier key. The old private key is overwritten; its verifier key stays
        in the log, so checkpoints it signed remain verifiable from the new one.
        """
        with self._io, self._files.locked(exclusive=True):
            self._check_writable()
            self._catch_up_to_write()
            old = self._signer()
            new, private = keys.new_signing_key(self.origin)
            self._files.write_next_signing_key(private)
            event = AuditEvent(
                KEY_ROTATED,
                actor,
                details={"old_vkey": old.verifier.vkey, "new_vkey": new.verifier.vkey},
            )
            self._write([event.canonical_json()])
            self._sign_locked(extra=[new])
            self._files.promote_next_signing_key(
                new.verifier.vkey, keys.public_key_pem(new.verifier)
            )
            return new.verifier.vkey

    def _finish_rotation(self) -> None:
        """After a crash in ``rotate_key``: promote the new key if its rotation was signed."""
        if not self._files.next_signing_key.exists():
            return
        new = keys.decode_private_key(self._files.read_signing_key(self._files.next_signing_key))
        latest = self._checkpoints[-1] if self._checkpoints else None
        if latest is not None and new.verifier.key_id.hex() in _signature_ids(latest.note):
            self._files.promote_next_signing_key(
                new.verifier.vkey, keys.public_key_pem(new.verifier)
            )
        else:
            self._files.next_signing_key.unlink()

    # ------------------------------------------------------------------ reading entries

    @property
    def size(self) -> int:
        """The number of entries on disk (including those of other processes)."""
        self._refresh()
        return self._tree.size

    def entries(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, AuditEvent]]:
        """Yield ``(index, event)`` for entries ``start`` to ``stop`` (exclusive)."""
        for index, leaf in self.leaves(start, stop):
            yield index, AuditEvent.from_json(leaf, check=False)

    def leaves(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index, leaf bytes)``: the exact canonical JSON that was hashed.

        Each leaf read back is checked against its hash in the tree (``IntegrityError``).
        """
        self._refresh()
        with self._io:
            size = self._tree.size
            stop = size if stop is None else min(stop, size)
            if start >= stop:
                return
            first = self._offsets[start]
            end = self._offsets[stop] if stop < size else self._entries_end
        records = self._files.entries.scan(first, end)
        for index, (_, payload) in zip(range(start, stop), records, strict=True):
            if hash_leaf(payload) != self._tree.leaf_hash(index):
                raise IntegrityError(f"entry {index} changed on disk")
            yield index, payload

    def leaf(self, index: int) -> bytes:
        self._refresh()
        with self._io:
            if not 0 <= index < self._tree.size:
                raise NotFound(f"no entry {index}; the log has {self._tree.size}")
            offset = self._offsets[index]
        payload = self._files.entries.read(offset)
        if hash_leaf(payload) != self._tree.leaf_hash(index):
            raise IntegrityError(f"entry {index} changed on disk")
        return payload

    def find_latest(self, type: str, subject: str | None = None) -> int:
        """The index of the latest entry of ``type`` (and ``subject``, when given)."""
        needle = type.encode()
        found = -1
        for index, leaf in self.leaves():
            if needle in leaf:
                event = AuditEvent.from_json(leaf)
                if event.type == type and (subject is None or event.subject == subject):
                    found = index
        if found < 0:
            about = f" for {subject}" if subject is not None else ""
            raise NotFound(f"no {type} entry{about} in the log")
        return found

    # ------------------------------------------------------------------ proofs and evidence

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._refresh()
        with self._io:
            if not 0 <= index < size <= self._tree.size:
                raise NotFound(f"no entry {index} in a tree of size {size}")
            return inclusion_proof(self._tree, index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        self._refresh()
        with self._io:
            if not 0 <= old_size <= new_size <= self._tree.size:
                raise NotFound(f"no consistency proof from size {old_size} to {new_size}")
            return consistency_proof(self._tree, old_size, new_size)

    def evidence(self, index: int) -> dict[str, Any]:
        """An evidence bundle: the entry, its leaf, an inclusion proof, a signed checkpoint, vkey.

        Anyone holding the verifier key checks it offline with ``verify_evidence``.
        """
        note = self.checkpoint()
        checkpoint = Checkpoint.parse(note.rpartition("\n\n")[0] + "\n")
        if not 0 <= index < checkpoint.size:
            raise NotFound(f"no entry {index}; the log has {checkpoint.size}")
        leaf = self.leaf(index)
        proof = self.inclusion_proof(index, checkpoint.size)
        return {
            "format": EVIDENCE_FORMAT,
            "vkey": self.vkey(),
            "checkpoint": note,
            "leaf_index": index,
            "leaf_b64": base64.b64encode(leaf).decode(),
            "entry": AuditEvent.from_json(leaf).to_dict(),
            "inclusion_proof": [base64.b64encode(p).decode() for p in proof],
        }

    # ------------------------------------------------------------------ verification input

    @property
    def directory(self) -> Path:
        return self._files.directory


def _signature_ids(note: str) -> set[str]:
    ids = set()
    for line in note.rpartition("\n\n")[2].splitlines():
        encoded = line.rpartition(" ")[2]
        try:
            ids.add(base64.b64decode(encoded)[:4].hex())
        except ValueError:
            continue
    return ids
