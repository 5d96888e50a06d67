"""An append-only Merkle tree (RFC 9162) that keeps every perfect subtree hash.

Level ``k`` holds the hashes of the aligned perfect subtrees of ``2**k`` leaves, packed in one
``bytearray``; a tree of ``n`` leaves keeps about ``2n`` hashes, so any root or proof of any
earlier size costs ``O(log n)`` hashes.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha256

from audit.hasher import EMPTY_ROOT, HASH_SIZE, NODE_PREFIX, hash_children

_H = HASH_SIZE


def largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly less than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """Leaf hashes and the perfect subtrees above them; append only."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return len(self._levels[0]) // _H

    def append(self, leaf_hash: bytes) -> int:
        """Add one leaf hash; returns its index."""
        index = self.size
        self.extend((leaf_hash,))
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add leaf hashes in order and every perfect subtree they complete."""
        level0 = self._levels[0]
        for leaf_hash in leaf_hashes:
            if len(leaf_hash) != _H:
                raise ValueError("a leaf hash has 32 bytes")
            level0 += leaf_hash
        depth = 0
        while True:
            below = self._levels[depth]
            pairs = len(below) // (2 * _H)
            if pairs == 0:
                return
            if depth + 1 == len(self._levels):
                self._levels.append(bytearray())
            above = self._levels[depth + 1]
            done = len(above) // _H
            if done == pairs:
                return
            view = memoryview(below)
            above += b"".join(
                sha256(NODE_PREFIX + view[2 * i * _H : (2 * i + 2) * _H]).digest()
                for i in range(done, pairs)
            )
            depth += 1

    def leaf_hash(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is outside a tree of {self.size}")
        return bytes(self._levels[0][index * _H : (index + 1) * _H])

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)``; ``start`` must be aligned as in RFC 9162 proofs."""
        n = end - start
        if n <= 0 or end > self.size:
            raise ValueError(f"no subtree [{start}, {end}) in a tree of {self.size}")
        if n & (n - 1) == 0 and start % n == 0:
            level = n.bit_length() - 1
            i = start >> level
            return bytes(self._levels[level][i * _H : (i + 1) * _H])
        k = largest_power_of_two_below(n)
        return hash_children(self.subtree_hash(start, start + k), self.subtree_hash(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (all by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"no tree of size {size}; the tree has {self.size} leaves")
        if size == 0:
            return EMPTY_ROOT
        subtrees: list[bytes] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                i = start >> level
                subtrees.append(bytes(self._levels[level][i * _H : (i + 1) * _H]))
                start += 1 << level
        root = subtrees.pop()
        while subtrees:
            root = hash_children(subtrees.pop(), root)
        return root
