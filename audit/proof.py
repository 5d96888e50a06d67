"""Building RFC 9162 inclusion and consistency proofs from a ``MerkleTree``."""

from __future__ import annotations

from audit.tree import MerkleTree, largest_power_of_two_below


def inclusion_proof(tree: MerkleTree, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]): the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size <= tree.size:
        raise ValueError(f"no leaf {index} in a tree of size {size} (log size {tree.size})")
    return _path(tree, index, 0, size)


def _path(tree: MerkleTree, m: int, start: int, end: int) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return [*_path(tree, m, start, start + k), tree.subtree_hash(start + k, end)]
    return [*_path(tree, m - k, start + k, end), tree.subtree_hash(start, start + k)]


def consistency_proof(tree: MerkleTree, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]); empty when either size is 0 or they are equal."""
    if not 0 <= old_size <= new_size <= tree.size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} (log {tree.size})")
    if old_size in (0, new_size):
        return []
    return _subproof(tree, old_size, 0, new_size, True)


def _subproof(tree: MerkleTree, m: int, start: int, end: int, whole: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if whole else [tree.subtree_hash(start, end)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(tree, m, start, start + k, whole), tree.subtree_hash(start + k, end)]
    return [*_subproof(tree, m - k, start + k, end, False), tree.subtree_hash(start, start + k)]
