"""Fixtures of the sandbox integration tests (defined in sandbox_itest_support)."""

from integration.sandbox.sandbox_itest_support import sandbox_env

__all__ = ["sandbox_env"]
