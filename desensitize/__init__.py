"""Desensitization of public data: recognizers, column scan, policies, transforms, k-anonymity and
the release report (and, in ``desensitize.dp``, differential privacy).

The public names below load on first use, so that importing the package (as the ``pds`` command
does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from desensitize.exceptions import Error

if TYPE_CHECKING:
    from desensitize.files import FileFinding, scan_file_for_personal_data
    from desensitize.findings import EntityFinding
    from desensitize.pipeline import desensitize_frame, desensitize_table
    from desensitize.policy import (
        Action,
        ColumnRule,
        KAnonymity,
        Policy,
        default_policy,
        load_policy,
        validate_policy,
    )
    from desensitize.pseudonym import pseudonymize
    from desensitize.report import ReleaseReport
    from desensitize.scan import ColumnFinding, TableScan, scan_table
    from desensitize.tableio import read_table
    from desensitize.textscan import find_entities, redact_text

_WHERE = {
    "FileFinding": "files",
    "scan_file_for_personal_data": "files",
    "EntityFinding": "findings",
    "desensitize_frame": "pipeline",
    "desensitize_table": "pipeline",
    "Action": "policy",
    "ColumnRule": "policy",
    "KAnonymity": "policy",
    "Policy": "policy",
    "default_policy": "policy",
    "load_policy": "policy",
    "validate_policy": "policy",
    "pseudonymize": "pseudonym",
    "ReleaseReport": "report",
    "ColumnFinding": "scan",
    "TableScan": "scan",
    "scan_table": "scan",
    "read_table": "tableio",
    "find_entities": "textscan",
    "redact_text": "textscan",
}

__all__ = [
    "Action",
    "ColumnFinding",
    "ColumnRule",
    "EntityFinding",
    "Error",
    "FileFinding",
    "KAnonymity",
    "Policy",
    "ReleaseReport",
    "TableScan",
    "default_policy",
    "desensitize_frame",
    "desensitize_table",
    "find_entities",
    "load_policy",
    "pseudonymize",
    "read_table",
    "redact_text",
    "scan_file_for_personal_data",
    "scan_table",
    "validate_policy",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'desensitize' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"desensitize.{module}"), name)
    globals()[name] = value
    return value
