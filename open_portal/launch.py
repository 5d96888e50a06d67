"""``make run``: prepare the data directory, demo accounts and data, then start the hub.

The hub starts the proxy and the portal (a hub-managed service). This process stays the hub's
parent: it passes signals on and, when the hub exits, for whatever reason, stops whatever the hub
left behind (the proxy and services run in sessions of their own), so a failed start leaves no
process running.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from open_portal.config import make_private_dir
from open_portal.exceptions import Error
from open_portal.hub import DEMO_NAMES, ROOT, HubSettings, Origins, check_production, origins


def prepare(settings: HubSettings) -> str | None:
    """Migrate, and in demo mode create demo accounts and data; returns the demo password."""
    from open_portal import accounts, demo
    from open_portal.service.context import open_portal

    password = None
    if settings.demo:
        given = settings.demo_password.get_secret_value() if settings.demo_password else ""
        password = given or accounts.generate_password()
        if len(password) < 8:
            raise Error("PDS_DEMO_PASSWORD must be at least 8 characters")
        accounts.write_password_file(
            settings.secrets_dir / "demo_passwords.json", list(DEMO_NAMES), password
        )
    else:
        check_production(settings)
    portal = open_portal(settings)
    try:
        if settings.demo:
            demo.ensure_demo_accounts(portal)
            published = demo.ensure_demo_data(portal)
            if published:
                print(f"demo data published: {', '.join(published)}", flush=True)
    finally:
        portal.close()
    return password


def banner(settings: HubSettings, password: str | None, where: Origins) -> str:
    lines = [
        "",
        "  Public Data Sandbox 公共数据沙箱",
        f"  open / 打开:  {where.public}/services/portal/",
        f"  workspaces / 工作区:  {where.workspace_pattern}/user/<user>/<grant>/",
        f"  data / 数据:  {settings.data_dir}",
    ]
    if password is not None:
        lines.append("  demo accounts / 演示账号 (one per role / 每个角色一个):")
        lines.append("    " + ", ".join(DEMO_NAMES))
        lines.append(f"  password / 密码:  {password}")
    lines.append("")
    return "\n".join(lines)


def port_in_use(port: int) -> bool:
    """Whether something already listens on ``127.0.0.1:port`` (or it cannot be bound)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def check_ports(settings: HubSettings) -> None:
    """Refuse to start when two settings name one port or a port is taken already."""
    seen: dict[int, str] = {}
    for name, port in settings.ports().items():
        if port in seen:
            raise Error(
                f"{seen[port]} and {name} are both {port}; each needs a port of its own",
                zh=f"{seen[port]} 与 {name} 同为端口 {port}",
            )
        seen[port] = name
        if port_in_use(port):
            raise Error(
                f"port {port} ({name}) is already in use on 127.0.0.1 (another deployment?); "
                "choose another PDS_PORT / 端口已被占用，请换一个 PDS_PORT",
                zh=f"端口 {port}（{name}）已被占用",
            )


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Orphaned descendants (the proxy, services) become this process's children, not init's."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def children() -> list[int]:
    """Process ids whose parent is this process."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid ...: comm may hold spaces and brackets
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.append(int(entry.name))
    return found


def stop_leftovers(grace: float = 10.0) -> None:
    """Terminate, then kill, every process left under this one, and reap them."""
    deadline = time.monotonic() + grace
    sig = signal.SIGTERM
    while left := children():
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(0.1)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if time.monotonic() > deadline:
            sig = signal.SIGKILL


def supervise(argv: list[str], cwd: Path) -> int:
    """Run the hub as a child, pass signals on, and leave nothing behind when it exits."""
    become_subreaper()
    hub = subprocess.Popen(argv, cwd=cwd)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            hub.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    code = hub.wait()
    stop_leftovers()
    return code


def main() -> None:
    # every file the platform writes (databases, logs, pid files, releases) is its own: the
    # few a workspace account must reach are opened up explicitly by the spawner
    os.umask(0o077)
    try:
        settings = HubSettings()
        check_ports(settings)
        make_private_dir(settings.data_dir)
        password = prepare(settings)
        where = origins(settings)
    except Error as exc:
        print(f"pds: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except ValueError as exc:  # pydantic settings errors
        first = str(exc).splitlines()
        print(f"pds: error: invalid setting: {' '.join(first[:3])}", file=sys.stderr)
        raise SystemExit(2) from None
    print(banner(settings, password, where), flush=True)
    # The hub's working directory holds only its own files: no directory there may shadow a
    # package name (the data directory has an ``audit`` folder, for one).
    workdir = settings.data_dir / "hub"
    make_private_dir(workdir)
    # the hub, its spawner and services read the settings again: give them the resolved ones
    os.environ["PDS_DATA_DIR"] = str(settings.data_dir)
    hub = Path(sys.executable).with_name("jupyterhub")
    config = str(ROOT / "jupyterhub_config.py")
    raise SystemExit(supervise([str(hub), "-f", config, "--log-level", "WARN"], workdir))


if __name__ == "__main__":
    main()
