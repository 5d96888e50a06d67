"""The idle culler service uses the ``--flag=Value`` form jupyterhub-idle-culler 2.0 accepts."""

from __future__ import annotations

import subprocess

from sandbox.culler import SCOPES, idle_culler_service


def test_flags_parse_with_the_real_culler() -> None:
    service, role = idle_culler_service(timeout=600, every=60)
    command = service["command"]
    assert "--cull-users=False" in command and "--timeout=600" in command
    assert role == {"name": "idle-culler", "scopes": SCOPES, "services": ["idle-culler"]}
    assert all(not flag.startswith("--cull") or "=" in flag for flag in command)
    # the installed culler starts with these options (culling itself: the integration test)
    parsed = subprocess.run([*command, "--help"], capture_output=True, text=True, check=False)
    assert parsed.returncode == 0, parsed.stderr
