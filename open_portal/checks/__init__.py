"""Automatic checks of a file proposed for export, shown to its reviewers and its requesters.

Each check returns ``CheckResult``s; a failing check does not block review, but the requester
must answer it before the request is submitted. ``run_checks`` runs every check on the copy the
portal took, never on anything the workspace says about the file.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one file."""

    check: str  # file_type, size, personal_data, disclosure, pseudonyms
    passed: bool
    message: str
    message_zh: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    """What a grant's export rules allow: size and the statistical disclosure thresholds."""

    max_file_bytes: int = 20 * 1024 * 1024
    min_cell_count: int = 10
    p_percent: float = 10.0
    nk_n: int = 2
    nk_k: float = 90.0

    @classmethod
    def from_rules(cls, rules: dict[str, Any]) -> Limits:
        known = {k: rules[k] for k in cls.__dataclass_fields__ if k in rules}
        return cls(**known)


def run_checks(
    name: str, data: bytes, *, limits: Limits, pseudonyms: Collection[str] = ()
) -> tuple[str, list[CheckResult]]:
    """The file's kind and every check's result on ``data`` (the content of file ``name``)."""
    from open_portal.checks import disclosure, filetypes, personal_data
    from open_portal.checks import pseudonyms as pseudonym_check
    from open_portal.checks.text import extract_text

    kind, results = filetypes.check(name, data, max_bytes=limits.max_file_bytes)
    text = extract_text(kind, data)
    results.append(personal_data.check(name, kind, data))
    # the raw bytes too: a parser of the file's kind may skip what a reader of the bytes sees
    raw = data.decode("utf-8", errors="replace")
    results.append(pseudonym_check.check(f"{text}\n{raw}", pseudonyms))
    results.extend(disclosure.check(kind, data, limits))
    return kind, results


__all__ = ["CheckResult", "Limits", "run_checks"]
