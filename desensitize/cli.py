"""``pds`` commands of the ``desensitize`` package."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this package's commands to the ``pds`` parser."""
