"""Taking a file into a request: read it from the outbox, check it, seal the copy."""

from __future__ import annotations

import hashlib

from open_portal.checks import Limits, run_checks
from open_portal.checks.pseudonyms import grant_pseudonyms
from open_portal.models import ExportFile, Grant
from open_portal.service.context import Portal
from open_portal.service.exports import holding
from open_portal.service.exports.outbox import outbox_of, read_outbox_file


def limits(grant: Grant) -> Limits:
    return Limits.from_rules(dict(grant.export_rules or {}))


def take(portal: Portal, grant: Grant, file: ExportFile, pseudonyms: set[str]) -> None:
    """Copy the file out of the outbox, run its checks and seal the copy."""
    rules = limits(grant)
    data = read_outbox_file(outbox_of(grant.id), file.name, max_bytes=rules.max_file_bytes)
    kind, results = run_checks(file.name, data, limits=rules, pseudonyms=pseudonyms)
    file.size = len(data)
    file.sha256 = hashlib.sha256(data).hexdigest()
    file.kind = kind
    file.checks = [r.to_json() for r in results]
    file.updated_at = portal.clock()
    holding.seal(portal, grant, file, data)


def release_pseudonyms(portal: Portal, grant: Grant) -> set[str]:
    """The pseudonyms in the grant's release, looked for in every file taken."""
    return grant_pseudonyms(portal.settings.releases_dir / "grants" / grant.id)
