"""Every table of the portal database, from all packages that keep state in it."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from open_portal.models import Base

# Modules that add tables to ``Base.metadata`` besides ``open_portal.models``.
TABLE_MODULES = ("open_portal.ledger",)


def target_metadata() -> list[MetaData]:
    """The metadata Alembic compares against: portal models and the policy store."""
    from policies.store import metadata as policy_metadata

    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return [Base.metadata, policy_metadata]
