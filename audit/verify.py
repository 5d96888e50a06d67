"""Pure verification of RFC 9162 proofs and evidence bundles: no I/O, bytes in, an exception out."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from audit.checkpoint import verify_checkpoint
from audit.events import AuditEvent
from audit.exceptions import Error, VerificationError
from audit.hasher import EMPTY_ROOT, HASH_SIZE, hash_children, hash_leaf


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


# ---------------------------------------------------------------------- evidence bundles


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
