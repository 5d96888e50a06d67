"""A real hub with the real ``SandboxSpawner``, a grant file, a release, and a stand-in portal."""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import socketserver
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sandbox import lifecycle
from sandbox.config import get_settings
from sandbox.devhub import DevHub, free_port, start_hub

REPO = Path(__file__).resolve().parents[3]
CHP = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
MEM_LIMIT = 512 * 1024**2
PIDS_LIMIT = 128
DISK_LIMIT = 64 * 1024**2
CPU_FRACTION = 1.0

pytestmark = pytest.mark.integration
# grant ids (and so account names) unique to this run: runs on one machine must not collide
RUN = secrets.token_hex(3)


def gid(name: str) -> str:
    """A grant id unique to this test run, e.g. ``g-esc-1a2b3c``."""
    return f"g-{name}-{RUN}"


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the sandbox needs root (accounts, cgroups, mounts)"
    if not shutil.which("bwrap"):
        return "bubblewrap is not installed (scripts/system-packages.sh)"
    if not (get_settings().workspace_env / "bin" / "jupyterhub-singleuser").exists():
        return "the workspace environment is not built (scripts/workspace-env.sh)"
    return None


# the credential the stand-in hub issues to every workspace (the portal's is random per start)
STAND_IN_CREDENTIAL = "pdsw-stand-in-credential-0123456789abcdef"


@dataclass
class StandInPortal:
    """The three workspace endpoints of the portal, answering from fixed data on loopback.

    It stands in for the portal (another package) so the bridge and the client can be tested;
    it records what the workspace sent.
    """

    port: int
    grants: dict[str, dict[str, Any]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> None:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                portal.requests.append(
                    {
                        "method": method,
                        "path": self.path,
                        "auth": self.headers.get("Authorization", ""),
                        "body": body,
                    }
                )
                prefix = "/services/portal/api/workspace/grants/"
                if not self.path.startswith(prefix):
                    return self._answer(404, {"detail": "not found"})
                grant_id, _, rest = self.path[len(prefix) :].partition("/")
                grant = portal.grants.get(grant_id)
                credential = self.headers.get("Authorization", "")
                if grant is None or credential != f"workspace {STAND_IN_CREDENTIAL}":
                    return self._answer(403, {"detail": "forbidden"})
                if method == "GET" and rest == "":
                    return self._answer(200, grant)
                if method == "POST" and rest == "dp":
                    return self._answer(200, {"value": 42.0, "epsilon": body.get("epsilon")})
                if method == "POST" and rest == "exports":
                    return self._answer(201, {"id": "EXP-1", "status": "submitted"})
                return self._answer(404, {"detail": "no route"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class SandboxEnv:
    """Everything a sandbox integration test needs."""

    hub: DevHub
    base: Path  # world-traversable test root on the host
    workspace_root: Path
    run_root: Path
    hub_dir: Path
    grants_file: Path
    vault_file: Path
    release_dir: Path
    cgroup_parent: str
    portal: StandInPortal
    grants: list[dict[str, Any]] = field(default_factory=list)

    def set_grants(self, grants: list[dict[str, Any]]) -> None:
        self.grants = grants
        tmp = self.grants_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(grants))
        tmp.replace(self.grants_file)

    def add_grant(self, **fields: Any) -> dict[str, Any]:
        if fields.get("release_dir") == self.release_dir:
            # each grant has its own release (the spawner gives it to the workspace's group)
            own = self.base / "releases" / fields["grant_id"]
            if not own.exists():
                shutil.copytree(self.release_dir, own)
            fields["release_dir"] = own
        grant = grant_dict(**fields)
        key = (grant["grant_id"], grant["user"])
        self.set_grants([g for g in self.grants if (g["grant_id"], g["user"]) != key] + [grant])
        return grant

    def destroy(self, grant_id: str) -> lifecycle.DestroyedWorkspace:
        return lifecycle.destroy_workspace(
            grant_id,
            workspace_root=self.workspace_root,
            run_root=self.run_root,
            cgroup_parent=self.cgroup_parent,
        )


def grant_dict(
    grant_id: str,
    user: str = "alice",
    level: str = "L2",
    active: bool = True,
    release_dir: Path | None = None,
    ends_in: timedelta = timedelta(days=30),
    reason: str = "",
) -> dict[str, Any]:
    return {
        "grant_id": grant_id,
        "user": user,
        "level": level,
        "active": active,
        "ends_at": (datetime.now(UTC) + ends_in).isoformat(),
        "release_dir": str(release_dir) if release_dir else None,
        "limits": {
            "mem_bytes": MEM_LIMIT,
            "cpu_fraction": CPU_FRACTION,
            "max_pids": PIDS_LIMIT,
            "disk_bytes": DISK_LIMIT,
        },
        "reason": reason,
    }


@pytest.fixture(scope="module")
def hub_extra_config() -> str:
    """More hub configuration (Python); a test module overrides this fixture to add some."""
    return ""


@pytest.fixture(scope="module")
def sandbox_env(
    tmp_path_factory: pytest.TempPathFactory, hub_extra_config: str
) -> Iterator[SandboxEnv]:
    missing = _missing()
    if missing:
        pytest.skip(missing)
    base = Path(tempfile.mkdtemp(prefix="pds-sbx-", dir="/var/tmp"))
    run_root = Path(tempfile.mkdtemp(prefix="pds-sbx-", dir="/run"))
    for d in (base, run_root):
        d.chmod(0o711)
    # a raw vault and a release readable by anyone on the host: only the sandbox keeps them out
    vault = base / "vault"
    vault.mkdir(mode=0o755)
    vault_file = vault / "raw-births.csv"
    vault_file.write_text("id_number,name\n110101199003077777,张三\n")
    vault_file.chmod(0o644)
    release = base / "releases" / "esc"
    release.mkdir(parents=True)
    pl.DataFrame({"district": ["A", "B", "A"], "births": [3, 5, 7]}).write_parquet(
        release / "births.parquet"
    )
    for p in (base / "releases", release, release / "births.parquet"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    hub_dir = tmp_path_factory.mktemp("hub")
    data_dir = hub_dir / "var"
    data_dir.mkdir()
    grants_file = hub_dir / "grants.json"
    grants_file.write_text("[]")
    cgroup_parent = f"pds-test-{secrets.token_hex(4)}"
    portal = StandInPortal(port=free_port(), grants={})
    portal.start()
    spawner = f"""
c.JupyterHub.spawner_class = "pds-sandbox"
c.SandboxSpawner.grant_provider = "sandbox.grants:json_file_provider"
c.SandboxSpawner.workspace_root = "{base / "workspaces"}"
c.SandboxSpawner.run_root = "{run_root}"
c.SandboxSpawner.cgroup_parent = "{cgroup_parent}"
c.SandboxSpawner.portal_url = "http://127.0.0.1:{portal.port}"
c.SandboxSpawner.credential_issuer = lambda user, server: "{STAND_IN_CREDENTIAL}"
c.SandboxSpawner.stop_grace = 1.0
"""
    spawner += hub_extra_config
    env = {
        "PDS_SANDBOX_GRANTS_FILE": str(grants_file),
        "PDS_DATA_DIR": str(data_dir),
        "PATH": f"{CHP.parent}:{os.environ.get('PATH', '')}",
    }
    old_data_dir = os.environ.get("PDS_DATA_DIR")
    os.environ["PDS_DATA_DIR"] = str(data_dir)
    try:
        hub = start_hub(hub_dir, spawner, env=env)
    except BaseException:
        portal.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(run_root, ignore_errors=True)
        raise
    sandbox = SandboxEnv(
        hub=hub,
        base=base,
        workspace_root=base / "workspaces",
        run_root=run_root,
        hub_dir=hub_dir,
        grants_file=grants_file,
        vault_file=vault_file,
        release_dir=release,
        cgroup_parent=cgroup_parent,
        portal=portal,
    )
    try:
        yield sandbox
    finally:
        cleanup(sandbox, old_data_dir)


def cleanup(sandbox: SandboxEnv, old_data_dir: str | None) -> None:
    """Undo everything the fixture made, each step even when an earlier one failed."""
    steps = [sandbox.hub.close, sandbox.portal.stop]
    steps += [
        functools.partial(sandbox.destroy, grant_id)
        for grant_id in {grant["grant_id"] for grant in sandbox.grants}
    ]
    steps += [
        functools.partial(_remove_cgroup_parent, sandbox.cgroup_parent),
        functools.partial(shutil.rmtree, sandbox.base, ignore_errors=True),
        functools.partial(shutil.rmtree, sandbox.run_root, ignore_errors=True),
    ]
    errors: list[BaseException] = []
    for step in steps:
        try:
            step()
        except Exception as e:
            errors.append(e)
    if old_data_dir is None:
        os.environ.pop("PDS_DATA_DIR", None)
    else:
        os.environ["PDS_DATA_DIR"] = old_data_dir
    if errors:
        raise errors[0]


def _remove_cgroup_parent(parent: str) -> None:
    for controller in ("memory", "pids", "cpu", ""):
        path = Path("/sys/fs/cgroup") / controller / parent
        if path.is_dir():
            path.rmdir()
