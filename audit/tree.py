"""An append-only Merkle tree (RFC 9162) that keeps every perfect subtree hash.

Level ``k`` holds the hashes of the aligned perfect subtrees of ``2**k`` leaves, packed in one
``bytearray``; a tree of ``n`` leaves keeps about ``2n`` hashes, so any root or proof of any
earlier size costs ``O(log n)`` hashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
        hashes = list(leaf_hashes)
        joined = b"".join(hashes)
        if len(joined) != _H * len(hashes) or any(len(h) != _H for h in hashes[:1]):
            raise ValueError("a leaf hash has 32 bytes")
        self._levels[0] += joined
        self._complete(0)

    def _complete(self, depth: int) -> None:
        """Hash every perfect subtree above ``depth`` that its level now completes."""
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
            data = bytes(below[2 * done * _H : 2 * pairs * _H])
            above += b"".join(
                [
                    sha256(NODE_PREFIX + data[i : i + 2 * _H]).digest()
                    for i in range(0, len(data), 2 * _H)
                ]
            )
            depth += 1

    def levels(self) -> list[bytes]:
        """The packed hashes of every level, leaves first (for ``extend_block``)."""
        return [bytes(level) for level in self._levels]

    def extend_block(self, levels: Sequence[bytes]) -> None:
        """Append a perfect block of ``2**k`` leaves whose levels were computed elsewhere.

        ``levels`` are ``MerkleTree(leaves).levels()`` of the block; the tree's size must be a
        multiple of the block size, so the block's subtrees are subtrees of this tree too.
        """
        count = len(levels[0]) // _H
        if count == 0 or count & (count - 1) or self.size % count:
            raise ValueError("a block is a power-of-two number of leaves, aligned to its size")
        if len(levels) != count.bit_length() or any(
            len(level) != (count >> k) * _H for k, level in enumerate(levels)
        ):
            raise ValueError("the levels of a block do not fit its size")
        for k, level in enumerate(levels):
            if k == len(self._levels):
                self._levels.append(bytearray())
            self._levels[k] += level
        self._complete(len(levels) - 1)

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
