"""Key formats: the Ed25519 signing key as a note private-key string, the public key as PEM.

The private key string is ``PRIVATE+KEY+name+hex(keyid)+base64(0x01 ‖ seed)``, the format of
``golang.org/x/mod/sumdb/note`` signers, so standard note tools can read it.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from audit.checkpoint import ED25519, NoteSigner, Verifier
from audit.exceptions import KeyFileError

_PREFIX = "PRIVATE+KEY+"


def generate_signer(name: str) -> NoteSigner:
    """A new random Ed25519 signer named ``name`` (the log's origin)."""
    return NoteSigner(name, Ed25519PrivateKey.generate())


def encode_private_key(signer: NoteSigner, private_key: Ed25519PrivateKey) -> str:
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    encoded = base64.b64encode(bytes([ED25519]) + seed).decode()
    return f"{_PREFIX}{signer.name}+{signer.verifier.key_id.hex()}+{encoded}\n"


def new_signing_key(name: str) -> tuple[NoteSigner, str]:
    """A new signer and its private key string, to be written to a 0600 file."""
    private_key = Ed25519PrivateKey.generate()
    signer = NoteSigner(name, private_key)
    return signer, encode_private_key(signer, private_key)


def decode_private_key(text: str) -> NoteSigner:
    """Parse a private key string and check its key ID."""
    text = text.strip()
    if not text.startswith(_PREFIX):
        raise KeyFileError("signing key file does not hold a PRIVATE+KEY string")
    parts = text[len(_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise KeyFileError("signing key is not PRIVATE+KEY+name+keyid+key")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise KeyFileError("signing key is not base64") from None
    if len(raw) != 33 or raw[0] != ED25519:
        raise KeyFileError("signing key is not an Ed25519 seed")
    signer = NoteSigner(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.verifier.key_id.hex() != hex_id:
        raise KeyFileError("signing key ID does not match its key")
    return signer


def public_key_pem(verifier: Verifier) -> bytes:
    """The public key as SubjectPublicKeyInfo PEM, for ``openssl pkeyutl -verify``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
