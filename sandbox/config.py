"""Settings of the ``sandbox`` package (environment variables with the ``PDS_`` prefix)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WORKSPACES_BASE = Path("/var/lib/pds")
RUN_BASE = Path("/run/pds")


def deployment_id(data_dir: Path) -> str:
    """A short id of one deployment on this host, derived from its data directory.

    Two deployments never share a data directory, so their workspace paths and accounts (which
    are scoped by the workspace root) never meet either.
    """
    return hashlib.sha256(str(data_dir.expanduser().resolve()).encode()).hexdigest()[:10]


class SandboxSettings(BaseSettings):
    """Where workspaces, their runtime sockets and their Python environment live on the host.

    Unset, the workspace root and run directory carry the deployment's id:
    ``/var/lib/pds/<id>/workspaces`` and ``/run/pds/<id>``.
    """

    model_config = SettingsConfigDict(env_prefix="PDS_", extra="ignore")

    data_dir: Path = Field(Path("./var"), description="The deployment's data directory.")
    # the defaults shown are filled in from the data directory by ``_per_deployment``
    workspace_root: Path = Field(
        WORKSPACES_BASE / "<deployment>" / "workspaces",
        description="One directory per grant workspace; <deployment> is an id of the data dir.",
    )
    workspace_run_dir: Path = Field(
        RUN_BASE / "<deployment>",
        description="Sockets, minimal /etc and release mounts of the workspaces.",
    )
    workspace_env: Path = Field(
        Path("/opt/pds/workspace-env"),
        description="The read-only Python environment of the workspaces.",
    )

    @model_validator(mode="before")
    @classmethod
    def _per_deployment(cls, values: dict[str, Any]) -> dict[str, Any]:
        deployment = deployment_id(Path(values.get("data_dir") or "./var"))
        values.setdefault("workspace_root", WORKSPACES_BASE / deployment / "workspaces")
        values.setdefault("workspace_run_dir", RUN_BASE / deployment)
        return values

    @property
    def audit_dir(self) -> Path:
        """The audit log directory, ``$PDS_DATA_DIR/audit``."""
        return self.data_dir / "audit"


def get_settings() -> SandboxSettings:
    """Read the settings from the environment now."""
    return SandboxSettings()
