"""C2SP tlog-checkpoint v1.0.0 bodies, signed as C2SP signed-note v1.0.0 with Ed25519.

A checkpoint body is ``origin\\nsize\\nbase64(root)\\n``; the note appends a blank line and one
line ``— <name> base64(key ID ‖ signature)`` per signature. The key ID is the first 4 bytes of
SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key) and the verifier key string is
``name+hex(key ID)+base64(0x01 ‖ public key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.exceptions import VerificationError

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash and space
MAX_SIGNATURES = 100


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID of an Ed25519 key named ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise VerificationError(f"invalid key name {name!r}: non-empty, no spaces, no '+'")


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The verifier key string ``name+hex(keyid)+base64(0x01 ‖ pubkey)``."""
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse and check a verifier key string."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise VerificationError("a verifier key is name+keyid+key")
        name, hex_id, encoded = parts
        _check_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
            wanted_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as exc:
            raise VerificationError(f"malformed verifier key: {exc}") from None
        if len(raw) != 33 or raw[0] != ED25519:
            raise VerificationError("verifier key is not an Ed25519 key (type 0x01, 32 bytes)")
        verifier = cls(name, raw[1:])
        if verifier.key_id != wanted_id or len(hex_id) != 8:
            raise VerificationError("verifier key ID does not match its name and key")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class NoteSigner:
    """Signs notes with one named Ed25519 private key."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = private_key
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, public)

    def signature_line(self, body: str) -> str:
        signature = self._key.sign(body.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def sign_note(body: str, signers: list[NoteSigner]) -> str:
    """A signed note: ``body``, a blank line, one signature line per signer."""
    _check_body(body)
    if not signers:
        raise ValueError("a note needs at least one signer")
    return body + "\n" + "".join(s.signature_line(body) for s in signers)


def _check_body(body: str) -> None:
    if not body.endswith("\n"):
        raise VerificationError("a note body ends with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in body) or "\x7f" in body:
        raise VerificationError("a note body has no control characters other than newline")


def open_note(note: str, verifiers: list[Verifier]) -> tuple[str, list[Verifier]]:
    """Check a signed note; returns its body and the verifiers whose signature is valid.

    Signatures by unknown keys are ignored; a signature by a known key that does not verify,
    or no valid signature by any known key, is an error.
    """
    body, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise VerificationError("malformed note: no signature block")
    body += "\n"
    _check_body(body)
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError("too many signatures on the note")
    known = {(v.name, v.key_id): v for v in verifiers}
    valid: list[Verifier] = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerificationError("malformed signature line in the note")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise VerificationError("malformed signature in the note") from None
        if len(raw) < 5:
            raise VerificationError("malformed signature in the note")
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue
        if not verifier.verify(body.encode(), raw[4:]):
            raise VerificationError(f"invalid signature by {name}+{raw[:4].hex()} on the note")
        if verifier not in valid:
            valid.append(verifier)
    if not valid:
        names = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers)
        raise VerificationError(f"note is not signed by the trusted key {names}")
    return body, valid


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint: the origin of the log, its size and its root hash."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint body (extension lines after the root are allowed and ignored)."""
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise VerificationError("a checkpoint has an origin, a size and a root line")
        origin, size_text, root_text = lines[:3]
        if not origin:
            raise VerificationError("checkpoint origin is empty")
        if not size_text.isascii() or not size_text.isdigit() or size_text != str(int(size_text)):
            raise VerificationError(f"checkpoint size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            raise VerificationError("checkpoint root is not base64") from None
        if len(root) != 32:
            raise VerificationError("checkpoint root is not a SHA-256 hash")
        return cls(origin, int(size_text), root)

    def sign(self, signers: list[NoteSigner]) -> str:
        return sign_note(self.body(), signers)


def open_checkpoint(note: str, verifiers: list[Verifier]) -> tuple[Checkpoint, list[Verifier]]:
    """Verify a signed checkpoint; returns it and the verifiers that signed it."""
    body, signed_by = open_note(note, verifiers)
    return Checkpoint.parse(body), signed_by


def verify_checkpoint(note: str, vkey: str, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint against one verifier key string (origin = key name)."""
    verifier = Verifier.from_vkey(vkey)
    checkpoint, _ = open_checkpoint(note, [verifier])
    expected = verifier.name if origin is None else origin
    if checkpoint.origin != expected:
        raise VerificationError(
            f"checkpoint origin {checkpoint.origin!r} is not the log {expected!r}"
        )
    return checkpoint
