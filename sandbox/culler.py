"""The idle culler as a hub-managed service, in the flag form jupyterhub-idle-culler 2.0 takes."""

from __future__ import annotations

import sys
from typing import Any

SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]


def idle_culler_service(
    *, timeout: int = 3600, every: int = 300, max_age: int = 0, name: str = "idle-culler"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``c.JupyterHub.services`` entry and the ``c.JupyterHub.load_roles`` entry.

    Servers idle for ``timeout`` seconds (or older than ``max_age``, if set) are stopped. Users
    are never culled: hub users are grant members and outlive their workspaces. Booleans are
    written ``--flag=True``/``--flag=False``, as the culler's traitlets aliases require.
    """
    service = {
        "name": name,
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={timeout}",
            f"--cull-every={every}",
            f"--max-age={max_age}",
            "--cull-users=False",
            "--cull-named-servers=True",
            "--remove-named-servers=False",
        ],
    }
    role = {"name": name, "scopes": list(SCOPES), "services": [name]}
    return service, role
