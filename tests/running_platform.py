"""Start the real platform (hub, proxy, portal) for integration tests, on free loopback ports."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.sync_api import Page

from sandbox.devhub import DevHub, loopback

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "demo-password-for-tests"
CHROMIUM = "/usr/bin/chromium"
WORKSPACES = Path("/var/lib/pds")
RUN = Path("/run/pds")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different free loopback ports (all bound at once, so none is given twice)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]


@dataclass
class RunningHub:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def portal(self) -> str:
        return f"{self.url}/services/portal"

    def workspace_origin(self, user: str) -> str:
        """The origin of ``user``'s workspaces: ``http://<user>.localhost:<port>`` (demo mode)."""
        return self.url.replace("://127.0.0.1:", f"://{user}.localhost:", 1)

    def workspace_url(self, user: str, grant_id: str, token: str) -> str:
        """The public URL of a running workspace, as the hub reports it."""
        server = self.server(user, grant_id, token)
        if not server:
            raise RuntimeError(f"{user}/{grant_id} is not running")
        return str(server["url"])

    def workspace_client(self, user: str, grant_id: str, token: str) -> httpx.Client:
        """An HTTP client of a running workspace on its own origin (through the proxy)."""
        base, host = loopback(self.workspace_url(user, grant_id, token))
        headers = {"Authorization": f"token {token}", **host}
        return httpx.Client(base_url=base, headers=headers, timeout=60)

    def token(self, user: str, password: str = PASSWORD) -> str:
        """A hub API token of ``user``, requested with the user's password."""
        response = httpx.post(
            f"{self.url}/hub/api/users/{user}/tokens",
            json={"auth": {"username": user, "password": password}, "note": "integration test"},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["token"])

    @property
    def workspaces(self) -> Path:
        return WORKSPACES / f"test-{self.url.rsplit(':', 1)[1]}"

    def start_workspace(
        self,
        user: str,
        grant_id: str,
        token: str,
        timeout: float = 300,
        options: dict[str, str] | None = None,
    ) -> None:
        """Start the named server of a grant as its user, through the hub's REST API (with the
        spawn's ``options``, such as ``{"lang": "en"}``)."""
        headers = {"Authorization": f"token {token}"}
        url = f"{self.url}/hub/api/users/{user}/servers/{grant_id}"
        response = httpx.post(url, headers=headers, json=options, timeout=60)
        if response.status_code not in (201, 202):
            raise RuntimeError(f"start refused: {response.status_code} {response.text}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.server(user, grant_id, token)
            if server and server.get("ready"):
                return
            if not server or not server.get("pending"):
                raise RuntimeError(
                    f"{user}/{grant_id} failed to start:\n{self.log.read_text()[-3000:]}"
                )
            time.sleep(0.2)
        raise TimeoutError(f"{user}/{grant_id} not ready in {timeout} s")

    def server(self, user: str, grant_id: str, token: str) -> dict[str, object] | None:
        response = httpx.get(
            f"{self.url}/hub/api/users/{user}",
            headers={"Authorization": f"token {token}"},
            timeout=30,
        )
        response.raise_for_status()
        servers: dict[str, dict[str, object]] = response.json().get("servers", {})
        return servers.get(grant_id)

    def api(self, user: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.portal, headers={"Authorization": f"token {self.token(user)}"}, timeout=60
        )

    def sign_in(self, page: Page, user: str) -> Page:
        """Sign ``page`` in as ``user`` on the hub's login page; it lands on the portal."""
        page.goto(f"{self.portal}/login?next=/services/portal/")
        page.fill("#username_input", user)
        page.fill("#password_input", PASSWORD)
        page.click("#login_submit")
        page.wait_for_selector("#who")
        return page

    def run_code(
        self,
        grant_id: str,
        code: str,
        *,
        token: str,
        user: str = "researcher",
        timeout: float = 180,
    ) -> str:
        """Run ``code`` in a kernel of ``user``'s running workspace of the grant, through the
        hub's REST API with the user's ``token``; what it printed."""
        dev = DevHub(
            directory=self.data_dir,
            public_url=self.url,
            api_url=f"{self.url}/hub/api",
            hub_port=0,
            proxy_api_port=0,
            token=token,
            proc=self.process,
            user_tokens={user: token},
        )
        return dev.run_code(user, grant_id, code, timeout=timeout)

    def approved_grant(
        self,
        dataset: str,
        level: str = "L2",
        *,
        epsilon: str = "0",
        team: tuple[str, ...] = (),
        applicant: str = "researcher",
        purpose: str = "集成测试 integration test",
    ) -> str:
        """The grant of an application for one dataset for 30 days, submitted through the
        portal's API and approved by the data owner (and, at L3, an officer)."""
        today = dt.date.today()
        body = {
            "kind": "person",
            "dataset_ids": [dataset],
            "purpose": purpose,
            "level": level,
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=30)).isoformat(),
            "epsilon": epsilon,
            "team_members": list(team),
            "agreement_accepted": True,
            "commitment_accepted": True,
        }
        approvers = ["owner", "officer"] if level == "L3" else ["owner"]
        with self.api(applicant) as client:
            created = client.post("/api/applications", params={"submit": "true"}, json=body)
        assert created.status_code == 201, created.text
        application_id = int(created.json()["id"])
        for approver in approvers:
            with self.api(approver) as client:
                approved = client.post(f"/api/applications/{application_id}/approve")
            assert approved.status_code == 200, approved.text
        return f"g{application_id:04d}"


@contextlib.contextmanager
def running_hub(
    data_dir: Path, *, extra_env: dict[str, str] | None = None, timeout: float = 180
) -> Iterator[RunningHub]:
    """``make run``'s entry point in a subprocess; stopped (with its children) afterwards."""
    port, hub_port, proxy_api_port, portal_port = free_ports(4)
    env = {
        **os.environ,
        "PDS_DATA_DIR": str(data_dir),
        "PDS_PORT": str(port),
        "PDS_HUB_PORT": str(hub_port),
        "PDS_PROXY_API_PORT": str(proxy_api_port),
        "PDS_PORTAL_PORT": str(portal_port),
        "PDS_DEMO_PASSWORD": PASSWORD,
        # workspace accounts must be able to traverse these, so not under a private temp dir
        "PDS_WORKSPACE_ROOT": str(WORKSPACES / f"test-{port}"),
        "PDS_WORKSPACE_RUN_DIR": str(RUN / f"test-{port}"),
        "PATH": f"{ROOT / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        **(extra_env or {}),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"hub-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "open_portal.launch"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = RunningHub(url=f"http://127.0.0.1:{port}", data_dir=data_dir, process=process, log=log)
    try:
        wait_ready(hub, timeout)
        yield hub
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        clean_up(data_dir, WORKSPACES / f"test-{port}", RUN / f"test-{port}")


def clean_up(data_dir: Path, workspace_root: Path, run_root: Path) -> None:
    """What a test platform leaves on the host: workspaces (accounts, volumes), memory mounts."""
    from open_portal.workspaces import unmount_memory
    from sandbox.lifecycle import destroy_workspace

    if workspace_root.is_dir():
        for grant in sorted(p.name for p in workspace_root.iterdir() if p.is_dir()):
            with contextlib.suppress(Exception):
                destroy_workspace(grant, workspace_root=workspace_root, run_root=run_root)
    for plain in (data_dir / "releases" / "grants").glob("*/plain"):
        with contextlib.suppress(Exception):
            unmount_memory(plain)
    for leftover in (workspace_root, run_root):
        shutil.rmtree(leftover, ignore_errors=True)


def wait_ready(hub: RunningHub, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(
                f"the platform exited with {hub.process.returncode}:\n{hub.log.read_text()[-4000:]}"
            )
        try:
            health = httpx.get(f"{hub.portal}/api/health", timeout=5)
            if health.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the platform did not become ready:\n{hub.log.read_text()[-4000:]}")
