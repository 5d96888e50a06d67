"""Taking a file into a request: read it from the outbox, check it, seal the copy."""

from __future__ import annotations

import hashlib

from open_portal.checks import CheckResult, Limits, run_checks
from open_portal.checks.filetypes import kind_of
from open_portal.checks.normalize import Normalized, normalize
from open_portal.checks.pseudonyms import grant_pseudonyms, pseudonyms_in_tables
from open_portal.models import ExportFile, Grant
from open_portal.service.context import Portal
from open_portal.service.exports import holding
from open_portal.service.exports.outbox import outbox_of, read_outbox_file
from open_portal.vault import Vault


def limits(grant: Grant) -> Limits:
    return Limits.from_rules(dict(grant.export_rules or {}))


def take(portal: Portal, grant: Grant, file: ExportFile, pseudonyms: set[str]) -> None:
    """Copy the file out of the outbox, run its checks and seal the copy."""
    rules = limits(grant)
    taken = read_outbox_file(outbox_of(grant.id), file.name, max_bytes=rules.max_file_bytes)
    # what is held is what is checked is what is shown: the file as reviewers will see it
    normal = normalize(file.name, kind_of(file.name), taken)
    data = normal.data
    kind, results = run_checks(file.name, data, limits=rules, pseudonyms=pseudonyms)
    results.insert(0, _intake_result(taken, normal))
    file.size = len(data)
    file.sha256 = hashlib.sha256(data).hexdigest()
    file.kind = kind
    file.checks = [r.to_json() for r in results]
    file.updated_at = portal.clock()
    holding.seal(portal, grant, file, data)


def _intake_result(taken: bytes, normal: Normalized) -> CheckResult:
    removed = "; ".join(normal.removed)
    return CheckResult(
        "intake",
        True,
        f"held as shown; removed: {removed}" if removed else "held as taken",
        f"按展示内容暂存；已移除：{removed}" if removed else "按原样暂存",
        {
            "removed": normal.removed,
            "taken_bytes": len(taken),
            "taken_sha256": hashlib.sha256(taken).hexdigest(),
        },
    )


def release_pseudonyms(portal: Portal, grant: Grant) -> set[str]:
    """The pseudonyms in the grant's release, looked for in every file taken.

    Read from the release at rest (sealed under the grant's key, always there once prepared) and
    from the copy the workspace mounts, wherever ``open_portal.workspaces`` lays them out.
    """
    from open_portal.workspaces import release_dir, sealed_dir

    found = grant_pseudonyms(release_dir(portal, grant.id))
    sealed = sealed_dir(portal, grant.id)
    if grant.wrapped_key is not None and sealed.is_dir():
        vault = Vault(sealed, portal.vault.master_key)
        tables = [vault.open(p.name, grant.wrapped_key) for p in sorted(sealed.glob("*.parquet"))]
        found |= pseudonyms_in_tables(tables)
    return found
