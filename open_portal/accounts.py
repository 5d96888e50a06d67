"""Demo accounts for the hub: names with argon2-hashed passwords in a file readable only by the hub.

Production logins go through an OIDC provider (oauthenticator's GenericOAuthenticator) instead.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jupyterhub.auth import Authenticator
from traitlets import Unicode

from open_portal.vault import write_private

HASHER = PasswordHasher()


def write_password_file(path: Path, names: list[str], password: str) -> None:
    """Store one argon2 hash per account (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    hashes = {name: HASHER.hash(password) for name in names}
    write_private(path, json.dumps(hashes, indent=1).encode())


def generate_password() -> str:
    return secrets.token_urlsafe(12)


class DemoAuthenticator(Authenticator):
    """Checks a name and password against the argon2 hashes of the demo accounts."""

    password_file = Unicode(
        help="JSON file mapping each demo account to the argon2 hash of its password."
    ).tag(config=True)

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        name = (data.get("username") or "").strip()
        password = data.get("password") or ""
        try:
            hashes: dict[str, str] = json.loads(Path(self.password_file).read_text())
        except (OSError, ValueError):
            self.log.error("demo password file %s cannot be read", self.password_file)
            return None
        stored = hashes.get(name)
        if stored is None:
            HASHER.hash(password)  # same work as a real check: no timing hint about names
            return None
        try:
            HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            self.log.warning("wrong password for demo account %s", name)
            return None
        return name
