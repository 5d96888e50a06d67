"""The release report: the security assessment that goes with every desensitized output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_SUFFIX = ".report.json"


def report_path(out: Path) -> Path:
    """Where the report of the output ``out`` is written: ``<out>.report.json`` beside it."""
    out = Path(out)
    return out.with_name(out.name + REPORT_SUFFIX)


@dataclass
class ReleaseReport:
    """What was done to a table and what risk remains; ``to_json`` is the file written."""

    source: str
    output: str
    input_sha256: str
    output_sha256: str
    rows_in: int
    rows_out: int
    rows_suppressed: int
    policy: dict[str, Any]
    policy_yaml: str
    columns: list[dict[str, Any]]
    k_requested: int | None
    k_achieved: int | None
    quasi_identifiers: list[str]
    risk_before: dict[str, Any]
    risk_after: dict[str, Any]
    residual: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "pds.release_report/v1",
            "created_at": self.created_at,
            "source": {"name": self.source, "sha256": self.input_sha256, "rows": self.rows_in},
            "output": {"name": self.output, "sha256": self.output_sha256, "rows": self.rows_out},
            "input_sha256": self.input_sha256,
            "output_sha256": self.output_sha256,
            "policy": self.policy,
            "policy_yaml": self.policy_yaml,
            "columns": self.columns,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_suppressed": self.rows_suppressed,
            "k_anonymity": {
                "k_requested": self.k_requested,
                "k_achieved": self.k_achieved,
                "quasi_identifiers": self.quasi_identifiers,
            },
            "k_achieved": self.k_achieved,
            "risk": {
                "model": "prosecutor",
                "quasi_identifiers": self.quasi_identifiers,
                "before": self.risk_before,
                "after": self.risk_after,
            },
            "residual_personal_data": self.residual,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"
