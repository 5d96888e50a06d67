"""The fast tree and proofs agree with the literal RFC 9162 reference; verification is sound."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit.audit.audit_reference import mth, path, proof

from audit.exceptions import VerificationError
from audit.hasher import hash_leaf
from audit.proof import consistency_proof, inclusion_proof
from audit.tree import MerkleTree
from audit.verify import root_from_inclusion_proof, verify_consistency, verify_inclusion

# No deadlines: these run on a shared machine, and timing is not the property under test.
leaves_st = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


def build(leaves: list[bytes]) -> MerkleTree:
    return MerkleTree(hash_leaf(leaf) for leaf in leaves)


@settings(deadline=None)
@given(leaves_st)
def test_every_prefix_root_matches_the_reference(leaves: list[bytes]) -> None:
    tree = build(leaves)
    for size in range(len(leaves) + 1):
        assert tree.root(size) == mth(leaves[:size])


@settings(deadline=None)
@given(leaves_st, st.integers(min_value=1, max_value=9))
def test_appending_in_any_chunks_gives_the_same_tree(leaves: list[bytes], chunk: int) -> None:
    tree = MerkleTree()
    for i in range(0, len(leaves), chunk):
        tree.extend(hash_leaf(leaf) for leaf in leaves[i : i + chunk])
    assert tree.root() == mth(leaves)


@settings(deadline=None)
@given(leaves_st, st.data())
def test_inclusion_proofs_match_the_reference_and_verify(leaves: list[bytes], data) -> None:
    tree = build(leaves)
    size = data.draw(st.integers(min_value=1, max_value=len(leaves)))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    built = inclusion_proof(tree, index, size)
    assert built == path(index, leaves[:size])
    verify_inclusion(index, size, hash_leaf(leaves[index]), built, mth(leaves[:size]))


@settings(deadline=None)
@given(leaves_st, st.data())
def test_consistency_proofs_match_the_reference_and_verify(leaves: list[bytes], data) -> None:
    tree = build(leaves)
    new = data.draw(st.integers(min_value=1, max_value=len(leaves)))
    old = data.draw(st.integers(min_value=1, max_value=new))
    built = consistency_proof(tree, old, new)
    assert built == (proof(old, leaves[:new]) if old < new else [])
    verify_consistency(old, new, mth(leaves[:old]), mth(leaves[:new]), built)


@settings(max_examples=60, deadline=None)
@given(leaves_st, st.data())
def test_a_flipped_bit_in_an_inclusion_proof_is_caught(leaves: list[bytes], data) -> None:
    tree = build(leaves)
    size = len(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    built = inclusion_proof(tree, index, size)
    if not built:
        return
    i = data.draw(st.integers(min_value=0, max_value=len(built) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    damaged = bytearray(built[i])
    damaged[bit // 8] ^= 1 << (bit % 8)
    built[i] = bytes(damaged)
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, tree.leaf_hash(index), built, tree.root())


@settings(max_examples=60, deadline=None)
@given(leaves_st, st.data())
def test_a_changed_history_is_not_consistent(leaves: list[bytes], data) -> None:
    new = len(leaves)
    if new < 2:
        return
    old = data.draw(st.integers(min_value=1, max_value=new - 1))
    victim = data.draw(st.integers(min_value=0, max_value=old - 1))
    forged = [*leaves[:victim], leaves[victim] + b"!", *leaves[victim + 1 :]]
    honest_old_root = mth(leaves[:old])
    fork = build(forged)
    with pytest.raises(VerificationError):
        verify_consistency(
            old, new, honest_old_root, fork.root(), consistency_proof(fork, old, new)
        )


@settings(deadline=None)
@given(leaves_st, st.data())
def test_a_proof_for_another_index_or_size_fails(leaves: list[bytes], data) -> None:
    tree = build(leaves)
    size = len(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    built = inclusion_proof(tree, index, size)
    other = data.draw(st.integers(min_value=0, max_value=size - 1))
    if other == index or tree.leaf_hash(other) == tree.leaf_hash(index):
        return
    with pytest.raises(VerificationError):
        verify_inclusion(other, size, tree.leaf_hash(index), built, tree.root())


def test_proof_of_a_leaf_outside_the_tree_is_refused() -> None:
    tree = build([b"a", b"b"])
    with pytest.raises(ValueError):
        inclusion_proof(tree, 2, 2)
    with pytest.raises(VerificationError, match="outside"):
        root_from_inclusion_proof(2, 2, tree.leaf_hash(0), [])


def test_roots_of_large_trees_are_built_level_by_level() -> None:
    leaves = [str(i).encode() for i in range(1000)]
    tree = build(leaves)
    assert tree.root(1000) == mth(leaves)
    assert tree.root(999) == mth(leaves[:999])
    assert tree.root(512) == mth(leaves[:512])


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=4), st.lists(st.integers(0, 3), max_size=5), st.data())
def test_blocks_hashed_elsewhere_give_the_same_tree(k: int, plan: list[int], data) -> None:
    block = 1 << k
    leaves = [str(i).encode() for i in range(block * len(plan) + 3)]
    tree = MerkleTree()
    for i, _ in enumerate(plan):
        chunk = leaves[i * block : (i + 1) * block]
        tree.extend_block(MerkleTree(hash_leaf(leaf) for leaf in chunk).levels())
    tree.extend(hash_leaf(leaf) for leaf in leaves[len(plan) * block :])
    for size in range(len(leaves) + 1):
        assert tree.root(size) == mth(leaves[:size])


def test_a_misaligned_block_is_refused() -> None:
    tree = build([b"a"])
    with pytest.raises(ValueError, match="aligned"):
        tree.extend_block(build([b"b", b"c"]).levels())
