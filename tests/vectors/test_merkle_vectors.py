"""RFC 6962 reference tree and the transparency-dev/merkle proof vectors (see merkle/README.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from audit.exceptions import VerificationError
from audit.hasher import EMPTY_ROOT, hash_leaf
from audit.proof import consistency_proof, inclusion_proof
from audit.tree import MerkleTree
from audit.verify import verify_consistency, verify_inclusion

VECTORS = Path(__file__).parent / "merkle"

REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
# Roots of the first n reference leaves, from RFC 6962's reference tree.
REFERENCE_ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _cases(kind: str) -> list[tuple[str, dict]]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    return [(str(f.relative_to(VECTORS)), json.loads(f.read_text())) for f in files]


INCLUSION = _cases("inclusion")
CONSISTENCY = _cases("consistency")


def reference_tree() -> MerkleTree:
    return MerkleTree(hash_leaf(leaf) for leaf in REFERENCE_LEAVES)


def test_vectors_are_all_there() -> None:
    assert (len(INCLUSION), len(CONSISTENCY)) == (98, 98)
    assert any(c["wantErr"] for _, c in INCLUSION)
    assert any(not c["wantErr"] for _, c in CONSISTENCY)


@pytest.mark.parametrize("size", sorted(REFERENCE_ROOTS))
def test_reference_tree_roots(size: int) -> None:
    assert reference_tree().root(size).hex() == REFERENCE_ROOTS[size]


def test_empty_root_is_the_hash_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == REFERENCE_ROOTS[0]
    assert MerkleTree().root() == EMPTY_ROOT


@pytest.mark.parametrize(("name", "case"), INCLUSION, ids=[n for n, _ in INCLUSION])
def test_inclusion_vector(name: str, case: dict) -> None:
    args = (case["leafIdx"], case["treeSize"], _b64(case["leafHash"]))
    proof = [_b64(p) for p in case["proof"] or []]
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            verify_inclusion(*args, proof, _b64(case["root"]))
    else:
        verify_inclusion(*args, proof, _b64(case["root"]))


@pytest.mark.parametrize(("name", "case"), CONSISTENCY, ids=[n for n, _ in CONSISTENCY])
def test_consistency_vector(name: str, case: dict) -> None:
    args = (case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]))
    proof = [_b64(p) for p in case["proof"] or []]
    if case["wantErr"]:
        with pytest.raises(VerificationError):
            verify_consistency(*args, proof)
    else:
        verify_consistency(*args, proof)


def _in_reference_tree(size: int, root: str) -> bool:
    return size <= len(REFERENCE_LEAVES) and _b64(root).hex() == REFERENCE_ROOTS[size]


HAPPY_INCLUSION = [
    (n, c)
    for n, c in INCLUSION
    if not c["wantErr"] and _in_reference_tree(c["treeSize"], c["root"])
]
HAPPY_CONSISTENCY = [
    (n, c)
    for n, c in CONSISTENCY
    if not c["wantErr"]
    and c["size1"] > 0
    and _in_reference_tree(c["size1"], c["root1"])
    and _in_reference_tree(c["size2"], c["root2"])
]


def test_most_happy_paths_are_in_the_reference_tree() -> None:
    assert len(HAPPY_INCLUSION) >= 5
    assert len(HAPPY_CONSISTENCY) >= 5


@pytest.mark.parametrize(("name", "case"), HAPPY_INCLUSION, ids=[n for n, _ in HAPPY_INCLUSION])
def test_built_inclusion_proofs_match_the_vectors(name: str, case: dict) -> None:
    tree = reference_tree()
    assert tree.leaf_hash(case["leafIdx"]) == _b64(case["leafHash"])
    built = inclusion_proof(tree, case["leafIdx"], case["treeSize"])
    assert built == [_b64(p) for p in case["proof"] or []]


@pytest.mark.parametrize(("name", "case"), HAPPY_CONSISTENCY, ids=[n for n, _ in HAPPY_CONSISTENCY])
def test_built_consistency_proofs_match_the_vectors(name: str, case: dict) -> None:
    built = consistency_proof(reference_tree(), case["size1"], case["size2"])
    assert built == [_b64(p) for p in case["proof"] or []]
