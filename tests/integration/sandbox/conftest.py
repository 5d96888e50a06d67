"""Fixtures of the sandbox integration tests (defined in sandbox_itest_support)."""

from integration.sandbox.sandbox_itest_support import hub_extra_config, sandbox_env

__all__ = ["hub_extra_config", "sandbox_env"]
