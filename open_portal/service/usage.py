"""Usage of a grant (可控可计量): workspace time, queries, exports, read from the audit log.

The privacy budget is read from the ledger (``open_portal.ledger``), its one source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from open_portal.models import Grant
from open_portal.service import auditing
from open_portal.service.context import Portal

_COUNTED = (
    "workspace.started",
    "workspace.stopped",
    "dp.query",
    "export.requested",
    "export.released",
)


@dataclass
class GrantUsage:
    workspace_seconds: float = 0.0
    workspace_starts: int = 0
    queries: int = 0
    exports_requested: int = 0
    exports_released: int = 0


def grant_usage(portal: Portal, grant: Grant) -> GrantUsage:
    """Sum the grant's events in the audit log (the log is the record of use), via its index."""
    usage = GrantUsage()
    started: datetime | None = None
    for _, type, time in auditing.indices_about(portal, f"grant:{grant.id}", *_COUNTED):
        if type == "workspace.started":
            usage.workspace_starts += 1
            started = time
        elif type == "workspace.stopped" and started is not None:
            usage.workspace_seconds += (time - started).total_seconds()
            started = None
        elif type == "dp.query":
            usage.queries += 1
        elif type == "export.requested":
            usage.exports_requested += 1
        elif type == "export.released":
            usage.exports_released += 1
    if started is not None:
        usage.workspace_seconds += (portal.clock() - started).total_seconds()
    return usage
