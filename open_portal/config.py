"""Settings of the portal and the platform launcher (environment variables prefixed ``PDS_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from open_portal.exceptions import ConfigurationError


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
        10101, ge=1, le=65535, description="Loopback port of the portal service."
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
        "", description="The address users open, e.g. https://data.example.gov.cn."
    )
    audit_origin: str = Field(
        "pds.local/audit", description="Origin line of the signed audit checkpoints."
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

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
