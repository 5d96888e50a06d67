"""The states of an export request, grouped as the service reads them.

The table of valid changes between them, with the audit event of each, is
``open_portal.service.transitions.EXPORT``.

The names follow OpenSAFELY Airlock: a request is ``pending`` while its requesters assemble it,
``submitted`` for review, ``partially_reviewed`` when the first of two officers has finished (L3),
``reviewed`` when enough have, then ``approved``, ``rejected`` or ``returned`` (for changes), and
``released`` once an officer releases the approved files; ``withdrawn`` by its requesters.
"""

from __future__ import annotations

from open_portal.models import ExportStatus

E = ExportStatus

EDITABLE = {E.PENDING, E.RETURNED}
UNDER_REVIEW = {E.SUBMITTED, E.PARTIALLY_REVIEWED, E.REVIEWED}
VOTING = {E.SUBMITTED, E.PARTIALLY_REVIEWED}
DECISIONS = ("approve", "reject", "return")
MAX_FILES = 50
