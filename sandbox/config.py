"""Settings of the ``sandbox`` package (environment variables with the ``PDS_`` prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    """Where workspaces, their runtime sockets and their Python environment live on the host."""

    model_config = SettingsConfigDict(env_prefix="PDS_", extra="ignore")

    data_dir: Path = Path("./var")
    workspace_root: Path = Path("/var/lib/pds/workspaces")
    workspace_run_dir: Path = Path("/run/pds")
    workspace_env: Path = Path("/opt/pds/workspace-env")

    @property
    def audit_dir(self) -> Path:
        """The audit log directory, ``$PDS_DATA_DIR/audit``."""
        return self.data_dir / "audit"


def get_settings() -> SandboxSettings:
    """Read the settings from the environment now."""
    return SandboxSettings()
