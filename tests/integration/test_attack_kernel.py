"""Attacks from inside a real L2 workspace kernel on what lies around it: the hub API through the
hub socket with the server's own token, the host's files (the platform's data directory with
the audit key, the vault and the database; another grant's workspace and release), and other
processes. Each path and call is enumerated from the host's side, so a new file or route is tried
too; everything beyond the server's own activity and its own grant is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from running_platform import RunningHub

pytestmark = pytest.mark.integration

PROBE = r"""
import http.client, json, os, socket
from urllib.parse import unquote
PARAMS = json.loads(__PARAMS__)

class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("hub", timeout=60)
        self.path_ = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path_)

hub_socket = unquote(os.environ["JUPYTERHUB_API_URL"].split("://", 1)[1].split("/", 1)[0])
prefix = "/" + os.environ["JUPYTERHUB_API_URL"].split("://", 1)[1].split("/", 1)[1].strip("/")
token = os.environ["JUPYTERHUB_API_TOKEN"]

def call(method, path, body=None):
    conn = Unix(hub_socket)
    data = json.dumps(body).encode() if body is not None else None
    try:
        conn.request(method, prefix + path, body=data,
                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")[:300]
    except OSError as exc:
        return 0, str(exc)
    finally:
        conn.close()

hub = {f"{m} {p}": call(m, p, b) for m, p, b in PARAMS["hub"]}
readable = []
for path in PARAMS["files"]:
    try:
        with open(path, "rb") as f:
            f.read(1)
        readable.append(path)
    except OSError:
        pass
listed = []
for path in PARAMS["dirs"]:
    try:
        os.listdir(path)
        listed.append(path)
    except OSError:
        pass
pids = [p for p in os.listdir("/proc") if p.isdigit()]
print(json.dumps({"hub": hub, "readable": readable, "listed": listed, "pids": len(pids),
                  "user": os.environ.get("JUPYTERHUB_USER"), "uid": os.getuid()}))
"""


def hub_calls(grant_id: str, other_grant: str) -> list[tuple[str, str, object]]:
    """Hub API calls a stolen server token would want: other users, tokens, servers, the proxy."""
    calls: list[tuple[str, str, object]] = []
    for user in ("researcher", "operator", "officer", "admin"):
        calls += [
            ("GET", f"/users/{user}", None),
            ("GET", f"/users/{user}/tokens", None),
            ("POST", f"/users/{user}/tokens", {"note": "x"}),
            ("POST", f"/users/{user}/servers/{other_grant}", {}),
            ("DELETE", f"/users/{user}/servers/{other_grant}", None),
            ("POST", f"/users/{user}/activity", {"last_activity": "2030-01-01T00:00:00Z"}),
        ]
    calls += [
        ("GET", "/users", None),
        ("GET", "/groups", None),
        ("GET", "/services", None),
        ("GET", "/proxy", None),
        ("GET", "/info", None),
        ("POST", "/users", {"usernames": ["mallory"]}),
        ("POST", "/shutdown", {}),
        ("DELETE", f"/users/researcher/servers/{grant_id}", None),
        ("POST", "/authorizations/token", {"username": "researcher", "password": "x"}),
    ]
    return calls


# what the server token may do: tell the hub the server is alive, and say whose it is
ALLOWED = {"GET /user", "GET /users/researcher", "POST /users/researcher/activity"}


def test_kernel_reaches_nothing_beyond_its_grant(hub: RunningHub) -> None:
    grant_id, other = (
        hub.approved_grant("hotline-tickets", team=("operator",), purpose="工作区内核攻击测试")
        for _ in range(2)
    )
    token = hub.token("researcher")
    hub.start_workspace("researcher", grant_id, token)
    hub.start_workspace("researcher", other, token)
    own = hub.workspaces / grant_id
    secret_files, dirs = [], []
    for top in (hub.data_dir, hub.workspaces):
        for root, _, names in os.walk(top):
            here = Path(root)
            if here == own or own in here.parents:
                continue
            dirs.append(str(here))
            secret_files += [str(here / n) for n in names if (here / n).is_file()]
    assert any("audit" in f for f in secret_files) and any(other in f for f in secret_files)
    calls = [*hub_calls(grant_id, other), ("GET", "/user", None)]
    params = {"hub": calls, "files": secret_files, "dirs": dirs}
    code = PROBE.replace("__PARAMS__", repr(json.dumps(params)))
    seen = json.loads(
        hub.run_code(grant_id, code, token=token, timeout=240).strip().splitlines()[-1]
    )
    assert seen["user"] == "researcher" and seen["uid"] != 0
    # the host's platform files and the other grant's workspace are out of reach
    assert seen["readable"] == [] and seen["listed"] == []
    # the other workspace's and the hub's processes are not visible
    assert seen["pids"] < 20
    # the server token does its server's bookkeeping and nothing else on the hub
    assert seen["hub"]["GET /user"][0] == 200
    beyond = {
        call: (status, text)
        for call, (status, text) in seen["hub"].items()
        if call not in ALLOWED and status not in (0, 401, 403, 404)
    }
    assert beyond == {}
    # the other workspace still runs: the token could not stop it
    assert hub.server("researcher", other, token)
    with httpx.Client(base_url=hub.portal, timeout=60) as anonymous:
        assert anonymous.get("/api/health").status_code == 200
