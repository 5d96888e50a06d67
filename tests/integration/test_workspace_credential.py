"""Attacks on the workspace → portal boundary from inside a real workspace.

The code runs in the workspace's own kernel: it reads its environment and every file it can
read for anything that looks like a token, and tries the server's hub token, the workspace
credential and whatever else it found on every route of the portal (enumerated from the app,
not listed by hand), through the portal socket the workspace really has.
"""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest
from fastapi.routing import APIRoute
from running_platform import RunningHub

from open_portal.routes import ROUTERS

pytestmark = pytest.mark.integration
PREFIX = "/services/portal"
MEGABYTE = "字" * (1024 * 1024 // 3 + 1)

ATTACK = r"""
import http.client, json, os, re, socket, sys
PARAMS = json.loads(__PARAMS__)
SKIP = ("/proc", "/sys", "/dev", "/usr")
TOKEN = re.compile(rb"(?<![0-9A-Za-z_-])(pdsw_[A-Za-z0-9_-]{20,}|[0-9a-f]{32,64}|[A-Za-z0-9_-]{40,64})(?![0-9A-Za-z_-])")

class Unix(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("portal", timeout=60)
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(os.environ["PDS_PORTAL_SOCKET"])

def call(method, path, header, body=None):
    conn = Unix()
    headers = {"Authorization": header, "Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()

found, files = set(), 0
env_dir = sys.prefix  # the read-only environment built before any grant existed
for value in os.environ.values():
    found.update(m.decode() for m in TOKEN.findall(value.encode()))
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            found.update(m.decode() for m in TOKEN.findall(open(f"/proc/{pid}/environ", "rb").read()))
            found.update(m.decode() for m in TOKEN.findall(open(f"/proc/{pid}/cmdline", "rb").read()))
        except OSError:
            pass
for root, dirs, names in os.walk("/"):
    if root.startswith(SKIP) or root.startswith(env_dir) or root.startswith("/data/release"):
        dirs[:] = []
        continue
    for name in names:
        path = os.path.join(root, name)
        try:
            if os.path.isfile(path) and os.path.getsize(path) <= 4 * 1024 * 1024:
                found.update(m.decode() for m in TOKEN.findall(open(path, "rb").read()))
                files += 1
        except OSError:
            pass
server_token = os.environ["JUPYTERHUB_API_TOKEN"]
credential = os.environ.get("PDS_WORKSPACE_TOKEN", "")
results = {"server": [], "credential": [], "found": {}, "files": files, "other_grant": []}
for method, path in PARAMS["requests"]:
    body = {} if method in ("POST", "PUT", "PATCH", "DELETE") else None
    results["server"].append([method, path, call(method, path, f"token {server_token}", body)])
    results["credential"].append([method, path, call(method, path, f"workspace {credential}", body)])
for token in sorted(found - {server_token, credential})[:2000]:
    results["found"][token[:6]] = [
        call("GET", PARAMS["me"], f"{scheme} {token}") for scheme in ("token", "workspace", "bearer")
    ]
for method, path in PARAMS["other"]:
    body = {} if method == "POST" else None
    results["other_grant"].append([method, path, call(method, path, f"workspace {credential}", body)])
results["big_comment"] = call(
    "POST", PARAMS["export"], f"workspace {credential}",
    {"files": ["x.csv"], "justification": "字" * 400000},
)
results["credential_seen"] = bool(credential)
print(json.dumps(results))
print("CREDENTIAL " + credential)
"""


def every_request(ids: dict[str, str]) -> list[tuple[str, str]]:
    """Every method and path of every route of the portal, its parameters filled with ids of
    things the workspace's own user has (so a refusal is the boundary, not a missing object)."""
    requests = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            path = PREFIX + route.path_format
            for name in re.findall(r"{(\w+)}", path):
                path = path.replace(f"{{{name}}}", ids.get(name, "1"))
            requests += [(method, path) for method in sorted(route.methods)]
    return requests


def test_the_workspace_holds_only_its_grants_credential(hub: RunningHub) -> None:
    grant_a = hub.approved_grant("hotline-tickets", purpose="工作区凭证攻击测试")
    grant_b = hub.approved_grant("social-insurance-payments", "L3", epsilon="1")
    application_a = int(grant_a.removeprefix("g"))
    token = hub.token("researcher")
    hub.start_workspace("researcher", grant_a, token)
    ids = {
        "grant_id": grant_a,
        "application_id": str(application_a),
        "dataset_id": "hotline-tickets",
        "code": "en",
        "name": "portal.css",
    }
    requests = every_request(ids)
    own = f"{PREFIX}/api/workspace/grants/{grant_a}"
    other = [
        (m, p.replace(f"/grants/{grant_a}", f"/grants/{grant_b}"))
        for m, p in requests
        if p.startswith(own)
    ]
    params = {
        "requests": requests,
        "other": other,
        "me": f"{PREFIX}/api/me",
        "export": f"{own}/exports",
    }
    code = ATTACK.replace("__PARAMS__", repr(json.dumps(params)))
    output = hub.run_code(grant_a, code, token=token, timeout=600).strip().splitlines()
    seen = json.loads(output[-2])
    credential = output[-1].removeprefix("CREDENTIAL ")

    assert seen["credential_seen"] and seen["files"] > 10
    # (a) the server's hub token works nowhere in the portal
    accepted = [(m, p, s) for m, p, s in seen["server"] if s not in (401, 403)]
    assert accepted == []
    # (a) the credential works on its grant's workspace API and nowhere else
    assert len(seen["credential"]) == len(requests) > 60
    for method, path, status in seen["credential"]:
        if path == own or path.startswith(own + "/"):
            assert status not in (401, 403), (method, path, status)
        else:
            assert status == 403, (method, path, status)
    # (a) nothing else found in the environment or the files is a portal token
    assert all(set(statuses) <= {401, 403} for statuses in seen["found"].values()), seen["found"]
    # (b) the credential of grant A on grant B's workspace API
    assert len(seen["other_grant"]) >= 4
    assert {status for _, _, status in seen["other_grant"]} == {403}
    # a long text sent through the workspace API is refused and stored nowhere
    assert 400 <= seen["big_comment"] < 500

    # (c) once the server stops, its credential is refused
    url = f"{hub.portal}/api/workspace/grants/{grant_a}"
    assert httpx.get(url, headers=_ws(credential), timeout=60).status_code == 200
    stopped = httpx.delete(
        f"{hub.url}/hub/api/users/researcher/servers/{grant_a}",
        headers={"Authorization": f"token {token}"},
        timeout=60,
    )
    assert stopped.status_code in (202, 204)
    deadline = time.monotonic() + 60
    while hub.server("researcher", grant_a, token):
        assert time.monotonic() < deadline, "the server did not stop"
        time.sleep(0.5)
    after = httpx.get(url, headers=_ws(credential), timeout=60)
    assert after.status_code == 401
    with hub.api("officer") as officer:
        events = officer.get("/api/audit/events", params={"grant": grant_a}).json()
    kinds = [e["type"] for e in events]
    assert "workspace.credential_issued" in kinds and "workspace.credential_revoked" in kinds


def _ws(credential: str) -> dict[str, str]:
    return {"Authorization": f"workspace {credential}", "Accept": "application/json"}


def test_a_megabyte_in_every_free_text_field_is_refused(hub: RunningHub) -> None:
    """Every string field of every form and JSON body and every query parameter, from the
    OpenAPI description, gets 1 MB from a user allowed to call the route: a 4xx each time."""
    with hub.api("admin") as anyone:
        spec = anyone.get("/api/openapi.json").json()
    refs = spec.get("components", {}).get("schemas", {})
    checked = 0
    clients = {user: hub.api(user) for user in ("researcher", "owner", "officer", "admin")}
    try:
        for path, operations in spec["paths"].items():
            url = re.sub(r"{\w+}", "1", path.removeprefix(PREFIX))
            for method, operation in operations.items():
                fields = []
                for content_type, content in (
                    operation.get("requestBody", {}).get("content", {}).items()
                ):
                    schema = _resolve(content["schema"], refs)
                    fields += [(content_type, n) for n in schema.get("properties", {})]
                queries = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
                for client in clients.values():
                    for content_type, name in fields:
                        if content_type == "application/json":
                            response = client.request(method, url, json={name: MEGABYTE})
                        elif content_type == "multipart/form-data":
                            response = client.request(
                                method, url, data={name: MEGABYTE}, files={"_": ("x", b"x")}
                            )
                        else:
                            response = client.request(method, url, data={name: MEGABYTE})
                        assert 400 <= response.status_code < 500, (
                            method,
                            path,
                            name,
                            response.status_code,
                        )
                        checked += 1
                    for name in queries:
                        response = client.request(method, url, params={name: "x" * 8000})
                        assert 400 <= response.status_code < 500, (
                            method,
                            path,
                            name,
                            response.status_code,
                        )
                        checked += 1
    finally:
        for client in clients.values():
            client.close()
    assert checked > 100
    with hub.api("researcher") as researcher:
        mine = researcher.get("/api/applications").json()
    assert all(len(json.dumps(a, ensure_ascii=False)) < 100_000 for a in mine)


def _resolve(schema: dict[str, object], refs: dict[str, dict[str, object]]) -> dict[str, object]:
    while "$ref" in schema:
        schema = refs[str(schema["$ref"]).rsplit("/", 1)[-1]]
    return schema
