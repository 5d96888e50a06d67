"""RFC 9162 hashing: SHA-256 with a 0x00 prefix for leaves and 0x01 for interior nodes."""

from __future__ import annotations

from hashlib import sha256

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"").digest()


def hash_leaf(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 ‖ data)."""
    return sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return sha256(NODE_PREFIX + left + right).digest()
