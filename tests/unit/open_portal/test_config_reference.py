"""The configuration reference in docs/ matches the settings and traits in the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_config_reference_is_current() -> None:
    generated = subprocess.run(
        [sys.executable, "scripts/config_reference.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (ROOT / "docs" / "config.md").read_text() == generated, "run scripts/config_reference.py"
