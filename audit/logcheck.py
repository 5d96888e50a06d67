"""Full verification of a log: every leaf, every checkpoint, key rotations.

``verify_log`` is pure: entries and checkpoint notes in, a ``LogReport`` or a
``VerificationError`` out. ``verify_directory`` feeds it from a log directory without changing
anything, hashing large logs in blocks on idle cores.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from audit.checkpoint import Checkpoint, Verifier, open_note
from audit.events import KEY_ROTATED, AuditEvent
from audit.exceptions import Error, IntegrityError, NotFound, VerificationError
from audit.hasher import EMPTY_ROOT, LEAF_PREFIX
from audit.proof import consistency_proof
from audit.store import LogFiles, RecordFile, TornRecord
from audit.tree import MerkleTree
from audit.verify import verify_consistency

BLOCK = 1 << 16
"""Entries per block when a full verification hashes blocks in parallel processes."""
PARALLEL_BYTES = 64 << 20
"""Verify logs larger than this in parallel, one process per core."""
MAX_WORKERS = 4


@dataclass(frozen=True)
class LogReport:
    """What a full verification established."""

    size: int
    signed_size: int
    checkpoints: int
    key_rotations: int
    workers: int = 1
    """Processes that hashed the entries."""
    checkpoint: str = ""
    """The latest signed checkpoint note, verified."""

    @property
    def unsigned(self) -> int:
        """Entries after the latest checkpoint, not yet covered by a signature."""
        return self.size - self.signed_size


@dataclass(frozen=True)
class _Rotation:
    index: int
    old: Verifier
    new: Verifier


_ROTATION_SUFFIX = b'"type":"' + KEY_ROTATED.encode() + b'"}'


@dataclass(frozen=True)
class HashedBlock:
    """A perfect block of leaves, hashed (possibly in another process): see ``hash_block``."""

    levels: list[bytes]
    rotations: list[tuple[int, bytes]]


def hash_block(leaves: Sequence[bytes]) -> HashedBlock:
    """Hash ``2**k`` leaves and their subtrees; keep key rotation entries (offset, leaf)."""
    tree = MerkleTree([sha256(LEAF_PREFIX + leaf).digest() for leaf in leaves])
    suffix = _ROTATION_SUFFIX
    found = [(i, leaves[i]) for i in [i for i, leaf in enumerate(leaves) if leaf.endswith(suffix)]]
    return HashedBlock(tree.levels(), found)


def verify_log(
    leaf_batches: Iterable[Sequence[bytes] | HashedBlock],
    notes: Sequence[str],
    vkey: str,
    *,
    since: Sequence[str] = (),
) -> LogReport:
    """Check every leaf against the checkpoints and the checkpoints against each other.

    ``leaf_batches`` are the log's entries in order, as lists of any length or as blocks
    hashed by ``hash_block`` (a block must start at a multiple of its size),
    ``notes`` its signed checkpoints oldest first,
    and ``vkey`` a verifier key the caller trusts (the current one or any earlier one: key
    rotations are entries of the log, co-signed by the old and the new key).
    ``since`` are checkpoint notes kept outside the log (by an officer, or the state of an
    earlier verification): the log's latest checkpoint must be a consistent extension of each.
    """
    trusted = Verifier.from_vkey(vkey)
    checkpoints = []
    for i, note in enumerate(notes):
        try:
            checkpoints.append(Checkpoint.parse(note.partition("\n\n")[0] + "\n"))
        except VerificationError as exc:
            raise VerificationError(f"stored checkpoint #{i}: {exc}") from None
    if not checkpoints:
        raise VerificationError("the log has no signed checkpoint")
    for i, cp in enumerate(checkpoints):
        if cp.origin != trusted.name:
            raise VerificationError(f"checkpoint #{i} is for {cp.origin!r}, not {trusted.name!r}")
        if i and cp.size < checkpoints[i - 1].size:
            raise VerificationError(
                f"checkpoint #{i} (size {cp.size}) is smaller than the one before it "
                f"(size {checkpoints[i - 1].size}): the log was rolled back"
            )

    tree = MerkleTree()
    rotations: list[_Rotation] = []
    for batch in leaf_batches:
        if isinstance(batch, HashedBlock):
            start = tree.size
            tree.extend_block(batch.levels)
            rotations += [_rotation(start + i, leaf) for i, leaf in batch.rotations]
        else:
            _add(tree, batch, rotations)

    rotations = [r for r in rotations if _took_effect(r, checkpoints, notes)]
    keys = _key_epochs(rotations, trusted)
    previous: Checkpoint | None = None
    for i, cp in enumerate(checkpoints):
        if cp.size > tree.size:
            raise VerificationError(
                f"checkpoint #{i} is signed for {cp.size} entries but the log has only "
                f"{tree.size}: entries were deleted"
            )
        if tree.root(cp.size) != cp.root:
            raise VerificationError(
                f"the log does not match checkpoint #{i} (size {cp.size}): "
                "an entry was changed, deleted, inserted or reordered"
            )
        allowed = [k for lo, hi, k in keys if lo <= cp.size <= hi]
        try:
            open_note(notes[i], allowed)
        except VerificationError as exc:
            raise VerificationError(f"checkpoint #{i} (size {cp.size}): {exc}") from None
        if previous is not None and previous.size > 0:
            proof = consistency_proof(tree, previous.size, cp.size)
            verify_consistency(previous.size, cp.size, previous.root, cp.root, proof)
        previous = cp
    for held in since:
        _check_extends(tree, held, checkpoints[-1], keys)
    return LogReport(
        tree.size, checkpoints[-1].size, len(checkpoints), len(rotations), checkpoint=notes[-1]
    )


def _check_extends(
    tree: MerkleTree, note: str, latest: Checkpoint, keys: list[tuple[int, float, Verifier]]
) -> None:
    """Refuse a log whose latest checkpoint is not a consistent extension of a held one.

    The held checkpoint must be signed by a key of this log in force at its size; then an
    RFC 9162 consistency proof from it to the latest checkpoint must verify.
    """
    try:
        held = Checkpoint.parse(note.rpartition("\n\n")[0] + "\n")
    except VerificationError as exc:
        raise VerificationError(f"the checkpoint held outside the log: {exc}") from None
    if held.origin != latest.origin:
        raise VerificationError(
            f"the checkpoint held outside the log is for {held.origin!r}, not {latest.origin!r}"
        )
    allowed = [k for lo, hi, k in keys if lo <= held.size <= hi]
    try:
        open_note(note, allowed)
    except VerificationError as exc:
        raise VerificationError(
            f"the checkpoint of size {held.size} held outside the log is not signed by this "
            f"log's key ({exc}): the log was replaced or forked"
        ) from None
    if held.size > latest.size:
        raise VerificationError(
            f"the log was rolled back: its latest checkpoint has size {latest.size}, "
            f"but a checkpoint of size {held.size} was signed before"
        )
    try:
        if held.size == 0:
            verify_consistency(0, 0, held.root, EMPTY_ROOT, [])
        else:
            proof = consistency_proof(tree, held.size, latest.size)
            verify_consistency(held.size, latest.size, held.root, latest.root, proof)
    except VerificationError as exc:
        raise VerificationError(
            f"the log is not a consistent extension of the checkpoint of size {held.size} "
            f"held outside it (a fork): {exc}"
        ) from None


def _add(tree: MerkleTree, leaves: Sequence[bytes], rotations: list[_Rotation]) -> None:
    start = tree.size
    sha, prefix, suffix = sha256, LEAF_PREFIX, _ROTATION_SUFFIX
    tree.extend([sha(prefix + leaf).digest() for leaf in leaves])
    for offset in [i for i, leaf in enumerate(leaves) if leaf.endswith(suffix)]:
        rotations.append(_rotation(start + offset, leaves[offset]))


def _took_effect(
    rotation: _Rotation, checkpoints: Sequence[Checkpoint], notes: Sequence[str]
) -> bool:
    """A rotation takes effect with a checkpoint that ends at its entry, signed by both keys.

    A rotation entry without one (a crash in the middle of rotating) changed nothing.
    """
    for cp, note in zip(checkpoints, notes, strict=True):
        if cp.size == rotation.index + 1:
            try:
                open_note(note, [rotation.old])
                open_note(note, [rotation.new])
            except VerificationError:
                continue
            return True
    return False


def _rotation(index: int, leaf: bytes) -> _Rotation:
    try:
        event = AuditEvent.from_json(leaf)
        old = Verifier.from_vkey(str(event.details["old_vkey"]))
        new = Verifier.from_vkey(str(event.details["new_vkey"]))
    except (Error, KeyError) as exc:
        raise VerificationError(f"key rotation at entry {index} is malformed: {exc}") from None
    return _Rotation(index, old, new)


def _key_epochs(rotations: list[_Rotation], trusted: Verifier) -> list[tuple[int, float, Verifier]]:
    """``(first size, last size, key)`` for each signing key in turn; the trusted key among them."""
    if not rotations:
        return [(0, math.inf, trusted)]
    epochs: list[tuple[int, float, Verifier]] = []
    low = 0
    for i, rotation in enumerate(rotations):
        if i and rotation.old != rotations[i - 1].new:
            raise VerificationError(
                f"key rotation at entry {rotation.index} does not start from the key "
                "the previous rotation introduced"
            )
        epochs.append((low, rotation.index + 1, rotation.old))
        low = rotation.index + 1
    epochs.append((low, math.inf, rotations[-1].new))
    if trusted not in [key for _, _, key in epochs]:
        raise VerificationError(
            f"the trusted key {trusted.name}+{trusted.key_id.hex()} never signed this log"
        )
    return epochs


def verify_directory(
    directory: Path,
    vkey: str | None = None,
    *,
    workers: int | None = None,
    since: Sequence[str] = (),
) -> LogReport:
    """Verify the log in ``directory`` without changing it; ``vkey`` defaults to its own.

    ``since``: checkpoint notes kept outside the log, which it must consistently extend.

    Large logs are hashed by ``workers`` processes (by default one per idle core, when this
    process runs no other thread). Raises ``VerificationError`` saying what is wrong.
    """
    files = LogFiles(Path(directory))
    if not files.exists():
        raise NotFound(f"no audit log in {directory}")
    vkey = vkey or files.read_vkey()
    with files.locked(exclusive=False):
        entries_end, checkpoints_end = files.entries.size(), files.checkpoints.size()
    if workers is None:
        workers = _idle_cores() if entries_end > PARALLEL_BYTES else 1
    if threading.active_count() > 1:
        workers = 1  # forking a process that runs threads is unsafe: verify in this one
    try:
        notes = [p.decode(errors="replace") for _, p in files.checkpoints.scan(end=checkpoints_end)]
        if workers < 2:
            batches = files.entries.payload_batches(entries_end, BLOCK)
            report = verify_log(batches, notes, vkey, since=since)
        else:
            fork = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=fork) as pool:
                blocks = _hashed_in(pool, files.entries, entries_end, workers)
                report = verify_log(blocks, notes, vkey, since=since)
        return dataclasses.replace(report, workers=workers)
    except (TornRecord, VerificationError, IntegrityError) as exc:
        raise VerificationError(_diagnose(files, entries_end, exc)) from None
    finally:
        files.close()


def _idle_cores() -> int:
    """Cores no other process keeps busy: fanning out onto busy cores only adds work."""
    cores = os.cpu_count() or 1
    busy = os.getloadavg()[0]
    return max(1, min(MAX_WORKERS, int(cores - busy + 0.5)))


def _hashed_in(
    pool: Executor, entries: RecordFile, end: int, workers: int
) -> Iterator[HashedBlock | list[bytes]]:
    """Blocks of entries hashed in ``pool`` (each worker reads its own), in order."""
    pending: deque[Future[HashedBlock]] = deque()
    for start, stop, records in entries.record_spans(end, BLOCK):
        if records < BLOCK:
            while pending:
                yield pending.popleft().result()
            yield entries.read_payloads(start, stop)
            continue
        pending.append(pool.submit(_hash_span, entries, start, stop))
        if len(pending) > 2 * workers:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _hash_span(entries: RecordFile, start: int, stop: int) -> HashedBlock:
    return hash_block(entries.read_payloads(start, stop))


def _diagnose(files: LogFiles, entries_end: int, exc: Exception) -> str:
    """Name the damaged record when a checksum explains a failed verification."""
    try:
        for _ in files.entries.scan(end=entries_end):
            pass
    except TornRecord as torn:
        return f"entries.log is damaged: {torn}; {exc}"
    if isinstance(exc, TornRecord):
        return f"checkpoints.log is damaged: {exc}"
    return str(exc)
