"""An idle workspace is culled by jupyterhub-idle-culler 2.0 running as a hub service."""

from __future__ import annotations

import time

import pytest
from integration.sandbox.sandbox_itest_support import SandboxEnv, gid

from sandbox import cgroups
from sandbox.workspace import WorkspaceLayout

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hub_extra_config() -> str:
    return """
from sandbox.culler import idle_culler_service
_service, _role = idle_culler_service(timeout=4, every=1)
c.JupyterHub.services.append(_service)
c.JupyterHub.load_roles.append(_role)
"""


def test_idle_workspace_is_culled(sandbox_env: SandboxEnv) -> None:
    env = sandbox_env
    env.add_grant(grant_id=gid("idle"))
    r = env.hub.start_server("alice", gid("idle"))
    assert r.status_code in (201, 202), r.text
    started = time.monotonic()
    while time.monotonic() - started < 60:
        server = env.hub.server("alice", gid("idle"))
        if not server or (not server["ready"] and not server["pending"]):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the idle workspace was not culled in 60 s")
    assert time.monotonic() - started >= 2  # not stopped at once: it was idle first
    layout = WorkspaceLayout.of(gid("idle"), env.workspace_root, env.run_root)
    assert cgroups.cgroup_for(env.cgroup_parent, layout.cgroup_name).procs() == set()
