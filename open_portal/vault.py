"""The raw vault: uploaded files encrypted at rest, one data key per dataset version.

Each file is sealed with AES-256-GCM under its own data key; the data key is wrapped with the
platform's master key (AES key wrap, RFC 3394) and stored in the database. Raw files are never
mounted in a workspace; only the portal process opens them.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from open_portal.exceptions import ConfigurationError, Error

MAGIC = b"PDSV1"
NONCE_BYTES = 12


class VaultError(Error):
    """A vault file or key that cannot be read or does not authenticate."""


def load_or_create_master_key(path: Path, *, create: bool) -> bytes:
    """The 32-byte master key from ``path`` (created 0600 in demo mode)."""
    if path.exists():
        key = path.read_bytes()
        if len(key) != 32:
            raise ConfigurationError(f"master key {path.name} must be 32 bytes, has {len(key)}")
        if path.stat().st_mode & 0o077:
            raise ConfigurationError(
                f"master key {path.name} must not be readable by others (chmod 600)"
            )
        return key
    if not create:
        raise ConfigurationError(f"master key file {path} is missing")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    write_private(path, key)
    return key


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable only by this account, atomically."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class Vault:
    """Seals and opens raw files under ``root``."""

    def __init__(self, root: Path, master_key: bytes) -> None:
        self.root = root
        self._master = master_key

    @property
    def master_key(self) -> bytes:
        return self._master

    def new_wrapped_key(self) -> bytes:
        return aes_key_wrap(self._master, AESGCM.generate_key(bit_length=256))

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._master, wrapped)
        except InvalidUnwrap:
            raise VaultError("a data key does not unwrap with this master key") from None

    def seal(self, name: str, plaintext: bytes, wrapped_key: bytes) -> Path:
        """Encrypt ``plaintext`` to ``root/name``; the name is bound as associated data."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.unwrap(wrapped_key)).encrypt(nonce, plaintext, name.encode())
        path = self.root / name
        write_private(path, MAGIC + nonce + sealed)
        return path

    def open(self, name: str, wrapped_key: bytes) -> bytes:
        """Decrypt ``root/name``; tampering or a wrong key raises ``VaultError``."""
        blob = (self.root / name).read_bytes()
        if not blob.startswith(MAGIC):
            raise VaultError(f"{name} is not a vault file")
        nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
        try:
            return AESGCM(self.unwrap(wrapped_key)).decrypt(
                nonce, blob[len(MAGIC) + NONCE_BYTES :], name.encode()
            )
        except Exception as exc:  # cryptography raises InvalidTag without a message
            raise VaultError(
                f"{name} does not authenticate: it was changed or the key is wrong"
            ) from exc

    def erase(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
