"""What a recognizer found in a text, and how overlapping findings are reduced to one span each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class EntityFinding:
    """One entity in a text: its type, span (``text[start:end]``), confidence and the matched text."""

    entity: str
    start: int
    end: int
    score: float
    text: str


def without_overlaps(findings: Iterable[EntityFinding]) -> list[EntityFinding]:
    """Keep, from left to right, the longest (then most confident) of overlapping spans."""
    ordered = sorted(findings, key=lambda f: (f.start, -(f.end - f.start), -f.score, f.entity))
    kept: list[EntityFinding] = []
    for finding in ordered:
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return kept


def replace_findings(text: str, findings: Iterable[EntityFinding]) -> str:
    """``text`` with each finding replaced by ``<ENTITY_TYPE>``."""
    parts: list[str] = []
    last = 0
    for f in without_overlaps(findings):
        parts += [text[last : f.start], f"<{f.entity}>"]
        last = f.end
    parts.append(text[last:])
    return "".join(parts)
