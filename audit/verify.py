"""Pure verification of RFC 9162 proofs: no I/O, only bytes in and an exception out."""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from audit.checkpoint import Checkpoint, Verifier, open_note, verify_checkpoint
from audit.events import KEY_ROTATED, AuditEvent
from audit.exceptions import Error, VerificationError
from audit.hasher import EMPTY_ROOT, HASH_SIZE, LEAF_PREFIX, hash_children, hash_leaf
from audit.proof import consistency_proof
from audit.tree import MerkleTree


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise VerificationError("the leaf hash is not a SHA-256 hash")
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ``VerificationError`` unless ``proof`` shows leaf ``index`` is in ``root``."""
    if not hmac.compare_digest(root_from_inclusion_proof(index, size, leaf_hash, proof), root):
        raise VerificationError(f"inclusion proof of leaf {index} does not match the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ``VerificationError`` unless the tree ``old_root`` is a prefix of ``new_root``.

    Follows RFC 9162 §2.1.4.2. A tree of size 0 must have the empty root, and a proof from the
    empty tree proves nothing, so it is refused: compare against the empty tree directly.
    """
    if old_size > new_size:
        raise VerificationError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == new_size:
        if proof:
            raise VerificationError("sizes are equal but the consistency proof is not empty")
        if not hmac.compare_digest(old_root, new_root):
            raise VerificationError(f"two different roots for the same size {old_size}")
        if old_size == 0 and not hmac.compare_digest(old_root, EMPTY_ROOT):
            raise VerificationError("the root of an empty tree is not the empty hash")
        return
    if old_size == 0:
        raise VerificationError("a consistency proof from the empty tree proves nothing")
    if not proof:
        raise VerificationError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is too short")
    if not hmac.compare_digest(fr, old_root):
        raise VerificationError(f"consistency proof does not match the root of size {old_size}")
    if not hmac.compare_digest(sr, new_root):
        raise VerificationError(f"consistency proof does not match the root of size {new_size}")


# ---------------------------------------------------------------------- whole logs and evidence


@dataclass(frozen=True)
class LogReport:
    """What a full verification established."""

    size: int
    signed_size: int
    checkpoints: int
    key_rotations: int
    workers: int = 1
    """Processes that hashed the entries."""

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
    leaf_batches: Iterable[Sequence[bytes] | HashedBlock], notes: Sequence[str], vkey: str
) -> LogReport:
    """Check every leaf against the checkpoints and the checkpoints against each other.

    ``leaf_batches`` are the log's entries in order, as lists of any length or as blocks
    hashed by ``hash_block`` (a block must start at a multiple of its size),
    ``notes`` its signed checkpoints oldest first,
    and ``vkey`` a verifier key the caller trusts (the current one or any earlier one: key
    rotations are entries of the log, co-signed by the old and the new key).
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
    return LogReport(tree.size, checkpoints[-1].size, len(checkpoints), len(rotations))


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


def verify_evidence(bundle: Mapping[str, Any], vkey: str) -> AuditEvent:
    """Check an evidence bundle offline with a trusted verifier key; returns its event."""
    if not isinstance(bundle, Mapping):
        raise VerificationError("an evidence bundle is a JSON object")
    try:
        note = bundle["checkpoint"]
        index = bundle["leaf_index"]
        leaf = base64.b64decode(bundle["leaf_b64"], validate=True)
        proof = [base64.b64decode(p, validate=True) for p in bundle["inclusion_proof"]]
        entry = bundle["entry"]
    except KeyError as exc:
        raise VerificationError(f"the evidence bundle has no {exc.args[0]!r}") from None
    except (TypeError, binascii.Error):
        raise VerificationError("the evidence bundle has a value that is not base64") from None
    if not isinstance(note, str) or not isinstance(index, int) or isinstance(index, bool):
        raise VerificationError("the evidence bundle's checkpoint or leaf_index has a wrong type")
    if any(len(p) != HASH_SIZE for p in proof):
        raise VerificationError("an inclusion proof hash is not 32 bytes")
    checkpoint = verify_checkpoint(note, vkey)
    try:
        event = AuditEvent.from_json(leaf)
    except Error as exc:
        raise VerificationError(f"the leaf of the evidence bundle: {exc}") from None
    if entry != event.to_dict():
        raise VerificationError("the entry of the evidence bundle is not its signed leaf")
    verify_inclusion(index, checkpoint.size, hash_leaf(leaf), proof, checkpoint.root)
    return event
