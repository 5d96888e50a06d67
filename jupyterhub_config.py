"""JupyterHub wiring of Public Data Sandbox: the decisions live in ``open_portal.hub``."""

from open_portal.hub import configure

configure(c)  # type: ignore[name-defined]  # noqa: F821
