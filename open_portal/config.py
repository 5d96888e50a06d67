"""Settings of the portal and the platform launcher (environment variables prefixed ``PDS_``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from open_portal.exceptions import ConfigurationError
from sandbox.config import deployment_id

# Offsets from the public port of the ports a deployment also listens on (8000 gives 8001, 8081
# and 10101).
PROXY_API_OFFSET = 1
HUB_OFFSET = 81
PORTAL_OFFSET = 2101


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it 0700: only this account enters it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def derived_port(port: int, offset: int) -> int:
    """The port ``offset`` above the public one, or below it when that passes 65535."""
    return port + offset if port + offset <= 65535 else port - offset


class PortalSettings(BaseSettings):
    """Every setting has an embedded default that works for ``make run`` in demo mode."""

    model_config = SettingsConfigDict(env_prefix="PDS_", extra="ignore")

    data_dir: Path = Field(
        Path("var"), description="Where the databases, vault, releases and audit log live."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the portal database; empty means SQLite under the data directory.",
    )
    port: int = Field(
        8000, ge=1, le=65535, description="Port of the public proxy (the hub's entry point)."
    )
    portal_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Loopback port of the portal service; 0 means the public port + 2101.",
    )
    demo: bool = Field(
        True, description="Demo mode: demo accounts and data, generated secrets allowed."
    )
    demo_password: SecretStr | None = Field(None, description="Password of every demo account.")
    cookie_secret: SecretStr | None = Field(
        None,
        description="Secret that signs portal cookies; generated into the data dir in demo mode.",
    )
    public_url: str = Field(
        "",
        description=(
            "The address users open: the origin of the hub and the portal, without a path "
            "(e.g. https://data.example.gov.cn); https and required outside demo mode. "
            "Empty: http://127.0.0.1:<PDS_PORT>."
        ),
    )
    audit_origin: str = Field(
        "pds.local/audit", description="Origin line of the signed audit checkpoints."
    )
    time_zone: str = Field(
        "Asia/Shanghai",
        description=(
            "IANA time zone of the dates people see and give: a term's days start and end at "
            "midnight there, and pages show times there."
        ),
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from open_portal.dates import zone

        zone(value)
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _ports_follow_the_public_port(self) -> PortalSettings:
        """Unset ports follow ``PDS_PORT``, so a second deployment needs only another port."""
        self.portal_port = self.portal_port or derived_port(self.port, PORTAL_OFFSET)
        return self

    @property
    def public_origin(self) -> str:
        """The origin users open (``public_url``, or the loopback address in demo mode)."""
        return self.public_url.strip().rstrip("/") or f"http://127.0.0.1:{self.port}"

    @property
    def deployment_id(self) -> str:
        """This deployment's id on the host (from its data directory): scopes workspace paths."""
        return deployment_id(self.data_dir)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{self.data_dir / 'portal.sqlite'}"

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit"

    @property
    def vault_dir(self) -> Path:
        return self.data_dir / "vault"

    @property
    def releases_dir(self) -> Path:
        return self.data_dir / "releases"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"


def normalise_database_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigurationError(
            f"PDS_DATABASE_URL must be a sqlite: or postgresql: URL, not {url.split(':', 1)[0]!r}"
        )
    return url


@lru_cache(maxsize=1)
def get_settings() -> PortalSettings:
    """The settings of this process, read once from the environment."""
    try:
        return PortalSettings()
    except ValueError as exc:
        raise ConfigurationError(f"invalid setting: {exc}") from exc
