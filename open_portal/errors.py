"""The base exceptions of every package, gathered for the CLI and the web error handler."""

from __future__ import annotations

import importlib


def user_error_types() -> tuple[type[Exception], ...]:
    """Every package's base exception: these are user-facing errors, never tracebacks."""
    from open_portal.cli import CliError

    types: list[type[Exception]] = [CliError, OSError, ValueError]
    for package in ("open_portal", "audit", "desensitize", "policies", "sandbox"):
        module = importlib.import_module(f"{package}.exceptions")
        base = getattr(module, "Error", None)
        if isinstance(base, type) and issubclass(base, Exception):
            types.append(base)
    return tuple(types)
