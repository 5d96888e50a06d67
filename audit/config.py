"""Settings of the audit log (environment variables prefixed ``PDS_``)."""

from __future__ import annotations

import os
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

    audit_state_file: Path | None = Field(
        default=None,
        description=(
            "Where `pds audit verify` keeps the last checkpoint it accepted (outside the data "
            "directory); default `$XDG_STATE_HOME/pds/audit/<origin>.checkpoint`, "
            "`XDG_STATE_HOME` defaulting to `~/.local/state`."
        ),
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    def state_file(self, origin: str) -> Path:
        """The verifier's state file for the log named ``origin``."""
        if self.audit_state_file is not None:
            return self.audit_state_file.expanduser().resolve()
        state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        name = "".join(c if c.isalnum() or c in "-._" else "_" for c in origin)
        return Path(state_home).expanduser().resolve() / "pds" / "audit" / f"{name}.checkpoint"

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit"
