"""C2SP signed-note and tlog-checkpoint: the reference example byte for byte, and refusals.

The PeterNeumann key and note are the documented example of golang.org/x/mod/sumdb/note
(BSD-3-Clause, The Go Authors), used here as a test vector.
"""

from __future__ import annotations

import hashlib

import pytest

from audit.checkpoint import (
    Checkpoint,
    Verifier,
    open_checkpoint,
    open_note,
    sign_note,
    verify_checkpoint,
)
from audit.exceptions import KeyFileError, VerificationError
from audit.keys import decode_private_key, generate_signer, new_signing_key

VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
SIGNED = (
    TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_reference_key_parses_and_its_id_is_the_spec_hash() -> None:
    verifier = Verifier.from_vkey(VKEY)
    assert verifier.name == "PeterNeumann"
    wanted = hashlib.sha256(b"PeterNeumann\n\x01" + verifier.public_key).digest()[:4]
    assert verifier.key_id == wanted == bytes.fromhex("c74f20a3")
    assert verifier.vkey == VKEY


def test_reference_signer_reproduces_the_reference_note() -> None:
    signer = decode_private_key(SKEY)
    assert signer.verifier.vkey == VKEY
    assert sign_note(TEXT, [signer]) == SIGNED


def test_reference_note_opens() -> None:
    body, signers = open_note(SIGNED, [Verifier.from_vkey(VKEY)])
    assert body == TEXT
    assert [s.name for s in signers] == ["PeterNeumann"]


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+c74f20a3+AhpcXQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong type
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(VerificationError):
        Verifier.from_vkey(bad)


def test_a_changed_body_does_not_verify() -> None:
    with pytest.raises(VerificationError, match="invalid signature"):
        open_note(SIGNED.replace("answer", "Answer"), [Verifier.from_vkey(VKEY)])


def test_a_note_signed_by_another_key_is_refused() -> None:
    other = generate_signer("PeterNeumann")
    note = sign_note(TEXT, [other])
    with pytest.raises(VerificationError, match="not signed by the trusted key"):
        open_note(note, [Verifier.from_vkey(VKEY)])


def test_unknown_signatures_are_ignored_and_cosignatures_are_counted() -> None:
    a, b, c = (generate_signer(n) for n in ("log.example", "witness.a", "witness.b"))
    note = sign_note(TEXT, [a, b, c])
    assert note.count("\n— ") == 3
    _, signed_by = open_note(note, [a.verifier, c.verifier])
    assert signed_by == [a.verifier, c.verifier]


@pytest.mark.parametrize(
    "mangled",
    [
        TEXT,  # no signature block
        SIGNED.replace("\n\n", "\n"),
        SIGNED.replace("— ", "- "),
        SIGNED.rstrip("\n"),
        SIGNED.replace("x08go", "!!8go"),
        "\x01" + SIGNED,
    ],
)
def test_malformed_notes_are_refused(mangled: str) -> None:
    with pytest.raises(VerificationError):
        open_note(mangled, [Verifier.from_vkey(VKEY)])


def test_checkpoint_body_is_the_c2sp_format() -> None:
    root = hashlib.sha256(b"").digest()
    body = Checkpoint("example.com/log", 7, root).body()
    assert body == "example.com/log\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    assert Checkpoint.parse(body) == Checkpoint("example.com/log", 7, root)


@pytest.mark.parametrize(
    "body",
    [
        "example.com/log\n07\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "example.com/log\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        "example.com/log\n7\nAAAA\n",
        "example.com/log\n7\n",
        "\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
    ],
)
def test_malformed_checkpoints_are_refused(body: str) -> None:
    with pytest.raises(VerificationError):
        Checkpoint.parse(body)


def test_checkpoint_signed_and_verified_with_the_vkey_alone() -> None:
    signer, _ = new_signing_key("pds.example/audit")
    cp = Checkpoint("pds.example/audit", 3, hashlib.sha256(b"x").digest())
    note = cp.sign([signer])
    assert verify_checkpoint(note, signer.verifier.vkey) == cp
    opened, signers = open_checkpoint(note, [signer.verifier])
    assert opened == cp and signers == [signer.verifier]


def test_checkpoint_of_another_origin_is_refused() -> None:
    signer = generate_signer("pds.example/audit")
    note = Checkpoint("other.example/log", 3, bytes(32)).sign([signer])
    with pytest.raises(VerificationError, match="origin"):
        verify_checkpoint(note, signer.verifier.vkey)


def test_private_key_string_round_trips_and_checks_its_id() -> None:
    signer, text = new_signing_key("pds.example/audit")
    assert text.startswith("PRIVATE+KEY+pds.example/audit+")
    assert decode_private_key(text).verifier == signer.verifier
    with pytest.raises(KeyFileError):
        decode_private_key(text.replace("PRIVATE+KEY+pds.example", "PRIVATE+KEY+pds.other"))
