"""Workspace lifecycle through the real hub: refusals, L3, stop on revoke, destruction at expiry."""

from __future__ import annotations

import json
import pwd
import socket
import time
from datetime import timedelta

import httpx
import pytest
from integration.sandbox.sandbox_itest_support import SandboxEnv, gid, grant_dict

from audit import AuditLog
from sandbox import accounts, cgroups, lifecycle, members
from sandbox.workspace import WorkspaceLayout

pytestmark = pytest.mark.integration
USER = "alice"


def events(env: SandboxEnv) -> list[dict]:
    with AuditLog.open(env.hub_dir / "var" / "audit") as log:
        return [event.to_dict() for _, event in log.entries()]


def wait_stopped(env: SandboxEnv, grant_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server = env.hub.server(USER, grant_id)
        if not server or (not server["ready"] and not server["pending"]):
            return
        time.sleep(0.1)
    raise AssertionError(f"{grant_id} still running")


@pytest.mark.parametrize(
    ("grant", "server", "user", "words"),
    [
        (None, gid("none"), USER, "No active grant"),
        (grant_dict(gid("mine"), user="bob"), gid("mine"), USER, "No active grant"),
        (
            grant_dict(gid("susp"), active=False, reason="suspended by officer 已暂停"),
            gid("susp"),
            USER,
            "suspended by officer 已暂停",
        ),
        (grant_dict(gid("ended"), ends_in=timedelta(seconds=-1)), gid("ended"), USER, "has ended"),
    ],
)
def test_start_without_an_active_grant_is_refused_clearly(
    sandbox_env: SandboxEnv, grant: dict | None, server: str, user: str, words: str
) -> None:
    if grant is not None:
        sandbox_env.add_grant(**{k: v for k, v in grant.items() if k in ("grant_id", "user")})
        sandbox_env.set_grants([*sandbox_env.grants[:-1], grant])
    r = sandbox_env.hub.start_server(user, server)
    assert r.status_code == 403, r.text
    assert words in r.json()["message"]
    assert not (sandbox_env.workspace_root / server / "home").exists()


def test_default_server_is_refused(sandbox_env: SandboxEnv) -> None:
    sandbox_env.hub.ensure_user(USER)
    r = sandbox_env.hub.api("POST", f"/users/{USER}/server")
    assert r.status_code == 403, r.text
    assert "approved grant" in r.json()["message"]


def test_l3_workspace_has_no_record_level_data(sandbox_env: SandboxEnv) -> None:
    env = sandbox_env
    # even if a provider passes a release for an L3 grant, it is not mounted
    env.add_grant(grant_id=gid("l3"), level="L3", release_dir=env.release_dir)
    env.portal.grants[gid("l3")] = {  # the portal names the dataset's level and gives no file
        "grant_id": gid("l3"),
        "level": "L3",
        "ends_at": env.grants[-1]["ends_at"],
        "datasets": [{"id": "births", "title": "Births", "level": "L3", "file": None}],
        "budget": {"total": 1.0, "spent": 0.0, "remaining": 1.0},
    }
    r = env.hub.start_server(USER, gid("l3"))
    assert r.status_code in (201, 202), r.text
    out = env.hub.run_code(
        USER,
        gid("l3"),
        """
import json, os
from sandbox import client
try:
    client.load("births")
    refused = False
except client.ClientError as e:
    refused = "L3" in str(e)
try:
    run = sorted(os.listdir("/run/pds/release"))  # an empty mount point, closed (0700 root)
except PermissionError:
    run = []
print(json.dumps({"release": os.path.exists("/data/release"),
                  "level": os.environ["PDS_GRANT_LEVEL"], "refused": refused, "run": run}))
""",
    )
    got = json.loads(out.strip().splitlines()[-1])
    assert got == {"release": False, "level": "L3", "refused": True, "run": []}
    assert not any(
        e["type"] == "workspace.data_mounted" and e["subject"] == "grant:" + gid("l3")
        for e in events(env)
    )
    env.hub.stop_server(USER, gid("l3"))


def test_stop_on_revoke_stops_everything_and_is_audited(sandbox_env: SandboxEnv) -> None:
    env = sandbox_env
    env.add_grant(grant_id=gid("rev"), release_dir=env.release_dir)
    r = env.hub.start_server(USER, gid("rev"))
    assert r.status_code in (201, 202), r.text
    layout = WorkspaceLayout.of(gid("rev"), env.workspace_root, env.run_root)
    group = cgroups.cgroup_for(env.cgroup_parent, layout.cgroup_name)
    assert group.procs()
    url = env.hub.server_url(USER, gid("rev")) + "api/status"
    headers = {"Authorization": f"token {env.hub.user_token(USER)}"}
    assert httpx.get(url, headers=headers).status_code == 200

    stopped = lifecycle.stop_workspace(env.hub.api_url, env.hub.token, USER, gid("rev"))

    assert stopped is True
    assert env.hub.server(USER, gid("rev")) is None or not env.hub.server(USER, gid("rev"))["ready"]
    assert group.procs() == set()
    assert httpx.get(url, headers=headers).status_code != 200
    assert not layout.server_socket.exists()
    types = [e["type"] for e in events(env) if e["subject"] == "grant:" + gid("rev")]
    assert types == ["workspace.data_mounted", "workspace.started", "workspace.stopped"]
    assert lifecycle.stop_workspace(env.hub.api_url, env.hub.token, USER, gid("rev")) is False


def test_suspending_a_grant_stops_its_running_workspace(sandbox_env: SandboxEnv) -> None:
    env = sandbox_env
    env.add_grant(grant_id=gid("poll"))
    r = env.hub.start_server(USER, gid("poll"))
    assert r.status_code in (201, 202), r.text
    env.add_grant(grant_id=gid("poll"), active=False, reason="revoked")
    wait_stopped(env, gid("poll"), timeout=20)  # the hub polls every second here
    layout = WorkspaceLayout.of(gid("poll"), env.workspace_root, env.run_root)
    assert cgroups.cgroup_for(env.cgroup_parent, layout.cgroup_name).procs() == set()


def test_expiry_destroys_the_workspace(sandbox_env: SandboxEnv) -> None:
    env = sandbox_env
    env.add_grant(grant_id=gid("exp"), release_dir=env.release_dir)
    r = env.hub.start_server(USER, gid("exp"))
    assert r.status_code in (201, 202), r.text
    headers = {"Authorization": f"token {env.hub.user_token(USER)}"}
    put = httpx.put(
        env.hub.server_url(USER, gid("exp")) + "api/contents/result.txt",
        headers=headers,
        json={"type": "file", "format": "text", "content": "mean births 5.0\n"},
    )
    assert put.status_code in (200, 201), put.text
    layout = WorkspaceLayout.of(gid("exp"), env.workspace_root, env.run_root)
    account = layout.account
    assert pwd.getpwnam(account)

    destroyed = lifecycle.destroy_workspace(
        gid("exp"),
        hub_api_url=env.hub.api_url,
        token=env.hub.token,
        user=USER,
        workspace_root=env.workspace_root,
        run_root=env.run_root,
        cgroup_parent=env.cgroup_parent,
    )

    files = {f.path: f for f in destroyed.files}
    result = f"members/{members.member_key(USER)}/result.txt"  # the member's own home
    assert result in files
    assert files[result].sha256 == (__import__("hashlib").sha256(b"mean births 5.0\n").hexdigest())
    assert destroyed.account_deleted
    assert not layout.dir.exists() and not layout.run_dir.exists()
    assert accounts.lookup(account) is None
    server = env.hub.server(USER, gid("exp"))
    assert server is None or not server["ready"]
    destroyed_events = [e for e in events(env) if e["type"] == "workspace.destroyed"]
    assert destroyed_events[-1]["details"]["manifest_sha256"] == destroyed.manifest_sha256
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", 1), timeout=1)  # sanity: refusals raise


def test_server_that_dies_at_start_is_reported_not_500_invalid_state(
    sandbox_env: SandboxEnv,
) -> None:
    env = sandbox_env
    grant = grant_dict(gid("tiny"))
    grant["limits"]["mem_bytes"] = 8 * 1024**2  # too small for the server to start
    env.set_grants([*env.grants, grant])
    r = env.hub.api("POST", f"/users/{USER}/servers/{gid('tiny')}")
    deadline = time.monotonic() + 60
    while r.status_code == 202 and time.monotonic() < deadline:
        server = env.hub.server(USER, gid("tiny"))
        if not server or not server["pending"]:
            break
        time.sleep(0.2)
    if r.status_code != 202:
        assert r.status_code == 500
        assert "exited while starting" in r.json()["message"], r.text
    else:
        progress = env.hub.api("GET", f"/users/{USER}/servers/{gid('tiny')}/progress")
        assert "exited while starting" in progress.text
    assert "InvalidStateError" not in r.text
    layout = WorkspaceLayout.of(gid("tiny"), env.workspace_root, env.run_root)
    assert cgroups.cgroup_for(env.cgroup_parent, layout.cgroup_name).procs() == set()


def test_members_use_a_grant_workspace_one_at_a_time(sandbox_env: SandboxEnv) -> None:
    env = sandbox_env
    env.add_grant(grant_id=gid("team"), user="alice")
    r = env.hub.start_server("alice", gid("team"))
    assert r.status_code in (201, 202), r.text
    # bob is a member too: the provider answers for him as well
    env.set_grants([*env.grants, grant_dict(gid("team"), user="bob")])
    refused = env.hub.start_server("bob", gid("team"))
    assert refused.status_code == 409, refused.text
    assert "open by alice" in refused.json()["message"]
    headers = {"Authorization": f"token {env.hub.user_token('alice')}"}
    status = httpx.get(env.hub.server_url("alice", gid("team")) + "api/status", headers=headers)
    assert status.status_code == 200  # bob's refused start left alice's workspace running
    env.hub.stop_server("alice", gid("team"))
    r = env.hub.start_server("bob", gid("team"))
    assert r.status_code in (201, 202), r.text
    env.hub.stop_server("bob", gid("team"))


def test_a_browser_logs_in_and_opens_jupyterlab_in_the_workspace(sandbox_env: SandboxEnv) -> None:
    """The OAuth handshake of the sandboxed server runs through its hub socket bridge."""
    env = sandbox_env
    env.add_grant(grant_id=gid("web"))
    r = env.hub.start_server(USER, gid("web"))
    assert r.status_code in (201, 202), r.text
    with httpx.Client(base_url=env.hub.public_url, follow_redirects=True, timeout=60) as browser:
        browser.get("/hub/login")
        xsrf = browser.cookies.get("_xsrf", "")
        login = browser.post(
            "/hub/login",
            data={"username": USER, "password": "x", "_xsrf": xsrf},
            follow_redirects=False,  # the hub's default would spawn the (refused) default server
        )
        assert login.status_code == 302, login.text[:500]
        lab = browser.get(f"/user/{USER}/{gid('web')}/lab")
        refused = browser.get(f"/hub/spawn/{USER}/{gid('nope')}")
    assert lab.status_code == 200, lab.text[:500]
    assert str(lab.url).endswith(f"/user/{USER}/{gid('web')}/lab")
    assert "JupyterLab" in lab.text
    # a workspace without a grant: the user sees why, in both languages, on the hub's page
    assert refused.status_code == 403
    assert "No active grant" in refused.text and "没有您可用的授权" in refused.text
    env.hub.stop_server(USER, gid("web"))
