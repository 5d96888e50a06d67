"""Settings of the audit log (environment variables prefixed ``PDS_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    """Where the log lives, its origin line and how often it signs a checkpoint by itself."""

    model_config = SettingsConfigDict(env_prefix="PDS_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Data directory; the log is in its audit/."
    )
    audit_origin: str = Field(
        default="pds.local/audit",
        description="Origin line of the signed checkpoints (and key name).",
    )
    audit_checkpoint_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Sign a checkpoint after an append when the last one is older than this.",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit"
