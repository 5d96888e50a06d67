"""Bad settings stop the launcher with one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def launch(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PDS_")}
    full.update(
        {"PDS_DATA_DIR": str(tmp_path / "var"), "PDS_DEMO_PASSWORD": "demo-password-1", **env}
    )
    return subprocess.run(
        [sys.executable, "-m", "open_portal.launch"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"PDS_PORT": "eighty"}, "invalid setting"),
        ({"PDS_PORT": "99999"}, "invalid setting"),
        ({"PDS_DATABASE_URL": "mysql://root@127.0.0.1/test"}, "PDS_DATABASE_URL must be"),
        (
            {"PDS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
            "cannot reach the database",
        ),
        ({"PDS_DEMO": "false", "PDS_DEMO_PASSWORD": "x"}, "refusing to start outside demo mode"),
        ({"PDS_DEMO": "false"}, "PDS_COOKIE_SECRET"),
        ({"PDS_DEMO_PASSWORD": "short"}, "at least 8 characters"),
        ({"PDS_WORKSPACE_HOST": "127.0.0.1"}, "must not be the portal's host"),
        ({"PDS_WORKSPACE_HOST": "https://ws.example.net"}, "must be a domain name"),
        ({"PDS_PUBLIC_URL": "http://localhost:8000"}, "must not be the portal's host"),
    ],
)
def test_bad_settings(tmp_path: Path, env: dict[str, str], says: str) -> None:
    if env.get("PDS_DEMO") == "false" and "PDS_DEMO_PASSWORD" not in env:
        env = {**env, "PDS_DEMO_PASSWORD": ""}
    result = launch(tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pds: error:")
    assert says in lines[0]
    assert "Traceback" not in result.stderr


def test_production_mode_names_every_missing_secret(tmp_path: Path) -> None:
    result = launch(tmp_path, PDS_DEMO="false", PDS_DEMO_PASSWORD="", PDS_COOKIE_SECRET="a" * 40)
    assert result.returncode == 2
    line = result.stderr.strip()
    for name in (
        "PDS_COOKIE_SECRET",
        "JUPYTERHUB_CRYPT_KEY",
        "PDS_OIDC_CLIENT_ID",
        "PDS_OIDC_TOKEN_URL",
        "PDS_PUBLIC_URL",
        "PDS_WORKSPACE_HOST",
    ):
        assert name in line


def listening_port() -> socket.socket:
    """A socket listening on a free loopback port, as another program would hold it."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


@pytest.mark.parametrize(
    "setting", ["PDS_PORT", "PDS_HUB_PORT", "PDS_PROXY_API_PORT", "PDS_PORTAL_PORT"]
)
def test_a_taken_port_refuses_the_start_with_one_line(tmp_path: Path, setting: str) -> None:
    with listening_port() as held:
        port = held.getsockname()[1]
        ports = ("PDS_PORT", "PDS_HUB_PORT", "PDS_PROXY_API_PORT", "PDS_PORTAL_PORT")
        # none derived (the machine is busy), and no two the same
        env = {name: str(port) for name, port in zip(ports, free_ports(len(ports)), strict=True)}
        env[setting] = str(port)
        result = launch(tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port} ({setting}) is already in use" in lines[0]
    # refused before anything was prepared: no data directory, no database
    assert not (tmp_path / "var" / "portal.sqlite").exists()


def test_two_settings_naming_one_port_are_refused(tmp_path: Path) -> None:
    port = free_port()
    result = launch(tmp_path, PDS_PORT=str(port), PDS_HUB_PORT=str(port))
    assert result.returncode == 2
    assert "PDS_PORT and PDS_HUB_PORT are both" in result.stderr


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different free loopback ports (bound at once, so none is given twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


LEAVES_A_DAEMON = """
import subprocess, sys
proxy = subprocess.Popen(["sleep", "300"], start_new_session=True)
open(sys.argv[1], "w").write(str(proxy.pid))
raise SystemExit(3)
"""


def test_a_failed_hub_leaves_no_process_behind(tmp_path: Path) -> None:
    """The hub's proxy runs in a session of its own; when the hub dies, the launcher stops it."""
    pid_file = tmp_path / "proxy.pid"
    script = tmp_path / "hub.py"
    script.write_text(LEAVES_A_DAEMON)
    supervised = (
        "import sys; from pathlib import Path; from open_portal.launch import supervise; "
        f"raise SystemExit(supervise([sys.executable, {str(script)!r}, {str(pid_file)!r}], Path('.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", supervised], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3, result.stderr
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists(), "the hub's daemon outlived the launcher"


def test_unset_ports_follow_the_public_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from open_portal.hub import HubSettings

    for name in ("PDS_HUB_PORT", "PDS_PROXY_API_PORT", "PDS_PORTAL_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PDS_PORT", "8000")
    first = HubSettings().ports()
    assert first == {
        "PDS_PORT": 8000,
        "PDS_HUB_PORT": 8081,
        "PDS_PROXY_API_PORT": 8001,
        "PDS_PORTAL_PORT": 10101,
    }
    monkeypatch.setenv("PDS_PORT", "9000")
    second = HubSettings().ports()
    assert not set(first.values()) & set(second.values())
    monkeypatch.setenv("PDS_PORT", "65500")
    assert all(0 < p <= 65535 for p in HubSettings().ports().values())


def test_two_data_directories_never_share_a_workspace_path_or_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandbox.config import SandboxSettings
    from sandbox.workspace import WorkspaceLayout

    for name in ("PDS_WORKSPACE_ROOT", "PDS_WORKSPACE_RUN_DIR"):
        monkeypatch.delenv(name, raising=False)
    layouts = []
    for deployment in ("one", "two"):
        monkeypatch.setenv("PDS_DATA_DIR", str(tmp_path / deployment / "var"))
        settings = SandboxSettings()
        layouts.append(
            WorkspaceLayout.of("g0001", settings.workspace_root, settings.workspace_run_dir)
        )
    one, two = layouts
    assert one.dir != two.dir and one.run_dir != two.run_dir
    assert one.account != two.account
    assert one.cgroup_name != two.cgroup_name
    # the same data directory, named differently, is the same deployment
    monkeypatch.setenv("PDS_DATA_DIR", str(tmp_path / "one" / "var" / ".." / "var"))
    assert SandboxSettings().workspace_root.parent == one.dir.parent.parent
