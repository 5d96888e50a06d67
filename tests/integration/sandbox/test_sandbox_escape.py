"""Escape attempts from inside a real spawned workspace, through a real kernel; each must fail.

One workspace is spawned for the module; every attempt runs as Python code in a kernel
reached through the hub's proxy (kernels REST API and websocket).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import socket
import textwrap
from collections.abc import Iterator

import pytest
from integration.sandbox.sandbox_itest_support import (
    CPU_FRACTION,
    DISK_LIMIT,
    MEM_LIMIT,
    PIDS_LIMIT,
    STAND_IN_CREDENTIAL,
    SandboxEnv,
    gid,
)

from sandbox import bwrap, cgroups, seccomp
from sandbox.workspace import WorkspaceLayout

pytestmark = pytest.mark.integration
USER = "alice"
GRANT = gid("esc")


@pytest.fixture(scope="module")
def ws(sandbox_env: SandboxEnv) -> Iterator[SandboxEnv]:
    env = sandbox_env
    env.add_grant(grant_id=GRANT, release_dir=env.release_dir)
    env.portal.grants[GRANT] = {
        "grant_id": GRANT,
        "level": "L2",
        "ends_at": env.grants[-1]["ends_at"],
        "datasets": [{"id": "births", "title": "Births", "file": "births.parquet"}],
        "budget": {"total": 1.0, "spent": 0.25, "remaining": 0.75},
    }
    # another grant's workspace on the host, readable by anyone there
    other = env.workspace_root / gid("other") / "home"
    other.mkdir(parents=True)
    (other / "secret.txt").write_text("other grant's work")
    (other / "secret.txt").chmod(0o644)
    for d in (other.parent, other):
        d.chmod(0o755)
    r = env.hub.start_server(USER, GRANT)
    assert r.status_code in (201, 202), r.text
    yield env


def run(env: SandboxEnv, code: str) -> dict:
    """Run code that prints one JSON object as its last line; return that object."""
    out = env.hub.run_code(USER, GRANT, textwrap.dedent(code))
    return json.loads(out.strip().splitlines()[-1])


def test_workspace_runs_as_its_own_account_in_its_home(ws: SandboxEnv) -> None:
    got = run(
        ws,
        """
        import json, os, pwd
        print(json.dumps({"uid": os.getuid(), "cwd": os.getcwd(), "home": os.environ["HOME"],
                          "name": pwd.getpwuid(os.getuid()).pw_name,
                          "mode": oct(os.stat(os.environ["HOME"]).st_mode & 0o777)}))
        """,
    )
    assert got["uid"] != 0
    assert got["cwd"] == got["home"] == bwrap.HOME
    assert got["name"] == "workspace"
    assert got["mode"] == "0o700"


def test_release_is_mounted_read_only_and_the_client_reads_it(ws: SandboxEnv) -> None:
    got = run(
        ws,
        """
        import json, os
        from sandbox import client
        frame = client.load("births").collect()
        try:
            open("/data/release/new.csv", "w")
            wrote = True
        except OSError as e:
            wrote = e.errno
        print(json.dumps({"rows": frame.height, "total": int(frame["births"].sum()),
                          "datasets": [d["id"] for d in client.datasets()],
                          "remaining": client.remaining_budget(), "wrote": wrote,
                          "dp": client.dp_query({"dataset": "births", "epsilon": 0.1})}))
        """,
    )
    assert got["rows"] == 3 and got["total"] == 15
    assert got["datasets"] == ["births"]
    assert got["remaining"] == 0.75
    assert got["wrote"] == 30  # EROFS
    assert got["dp"] == {"value": 42.0, "epsilon": 0.1}
    sent = [r for r in ws.portal.requests if r["path"].endswith("/dp")]
    assert sent and sent[-1]["auth"] == f"workspace {STAND_IN_CREDENTIAL}"


def test_export_request_names_only_outbox_files(ws: SandboxEnv) -> None:
    got = run(
        ws,
        """
        import json
        from sandbox import client
        (client.outbox() / "table.csv").write_text("district,births\\nA,10\\n")
        request = client.request_export(["table.csv"], justification="figure 2", controls="none")
        try:
            client.request_export(["../.bashrc"], justification="x", controls="y")
            outside = "sent"
        except client.ClientError as e:
            outside = "refused"
        print(json.dumps({"request": request, "outside": outside}))
        """,
    )
    assert got == {"request": "EXP-1", "outside": "refused"}
    body = [r for r in ws.portal.requests if r["path"].endswith("/exports")][-1]["body"]
    assert body == {
        "files": ["table.csv"],
        "justification": "figure 2",
        "controls": "none",
        "submit": True,
    }


def test_host_secrets_are_not_there(ws: SandboxEnv) -> None:
    paths = [
        str(ws.vault_file),
        str(ws.hub_dir / "jupyterhub.sqlite"),
        str(ws.hub_dir / "jupyterhub_cookie_secret"),
        str(ws.hub_dir / "var" / "audit" / "keys" / "signing.key"),  # a key of the platform
        str(ws.workspace_root / gid("other") / "home" / "secret.txt"),
        str(ws.workspace_root / GRANT / "home.img"),
        "/etc/shadow",
        "/etc/gshadow",
        "/root/.bashrc",
        "/work",
        "/var/lib",
        "/sys/fs/cgroup",
    ]
    assert ws.vault_file.read_text().startswith("id_number")  # readable on the host
    assert (ws.hub_dir / "var" / "audit" / "keys" / "signing.key").exists()
    got = run(
        ws,
        f"""
        import json, os
        result = {{}}
        for path in {paths!r}:
            try:
                with open(path, "rb") as f:
                    f.read(1)
                result[path] = "READ"
            except OSError as e:
                result[path] = e.errno
        print(json.dumps(result))
        """,
    )
    assert all(v != "READ" for v in got.values()), got
    assert set(got) == set(paths)


def test_etc_is_minimal_and_has_no_secrets(ws: SandboxEnv) -> None:
    got = run(ws, "import json, os; print(json.dumps(sorted(os.listdir('/etc'))))")
    # jupyter/: the lab's settings for this workspace (language, no news), written by the spawner
    assert got == ["group", "hostname", "hosts", "jupyter", "nsswitch.conf", "passwd"]


def test_host_processes_are_not_visible(ws: SandboxEnv) -> None:
    got = run(
        ws,
        """
        import json, os
        cmds = []
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmds.append(open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace"))
                except OSError:
                    pass
        print(json.dumps(cmds))
        """,
    )
    joined = "\n".join(got)
    assert "configurable-http-proxy" not in joined
    assert "jupyterhub\x00-f" not in joined and "-m\x00jupyterhub" not in joined
    assert len(got) < 15, got


def test_no_network_out_no_dns_no_host_loopback(ws: SandboxEnv) -> None:
    host_service = socket.socket()
    host_service.bind(("127.0.0.1", 0))
    host_service.listen()
    service_port = host_service.getsockname()[1]
    try:
        # reachable from the host itself
        socket.create_connection(("127.0.0.1", service_port), timeout=2).close()
        loopback = {
            "service": service_port,
            "proxy_api": ws.hub.proxy_api_port,
            "hub": ws.hub.hub_port,
            "proxy": int(ws.hub.public_url.rsplit(":", 1)[1]),
            "postgres": 5432,
            "portal": ws.portal.port,
        }
        got = run(
            ws,
            f"""
            import json, socket
            result = {{}}
            for name, port in {loopback!r}.items():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()
                    result[name] = "CONNECTED"
                except OSError as e:
                    result[name] = e.errno
            # connect() on UDP sends nothing: it only asks for a route
            for name, addr in {{"internet": ("192.0.2.1", 80), "dns": ("8.8.8.8", 53)}}.items():
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.connect(addr)
                    result[name] = "ROUTED"
                except OSError as e:
                    result[name] = e.errno
            try:
                socket.getaddrinfo("pypi.org", 443)
                result["resolve"] = "RESOLVED"
            except OSError as e:
                result["resolve"] = "failed"
            result["interfaces"] = sorted(
                line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]
            )
            print(json.dumps(result))
            """,
        )
    finally:
        host_service.close()
    for name in loopback:
        assert got[name] == 111, (name, got)  # ECONNREFUSED: the namespace's own loopback
    assert got["internet"] == 101 and got["dns"] == 101  # ENETUNREACH
    assert got["resolve"] == "failed"
    assert got["interfaces"] == ["lo"]


def test_host_unix_sockets_are_not_reachable(ws: SandboxEnv) -> None:
    host_sock = ws.base / "host-service.sock"
    abstract_name = f"pds-probe-{os.getpid()}"
    listeners = [socket.socket(socket.AF_UNIX), socket.socket(socket.AF_UNIX)]
    listeners[0].bind(str(host_sock))
    host_sock.chmod(0o777)
    listeners[1].bind("\0" + abstract_name)
    for listener in listeners:
        listener.listen()
    try:
        # both reachable on the host by anyone
        for address in (str(host_sock), "\0" + abstract_name):
            probe = socket.socket(socket.AF_UNIX)
            probe.connect(address)
            probe.close()
        paths = [str(host_sock), "/run/postgresql/.s.PGSQL.5432", "/var/run/docker.sock"]
        got = run(
            ws,
            f"""
            import json, socket
            result = {{}}
            for path in {paths!r} + [chr(0) + {abstract_name!r}]:
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(path)
                    result[path.replace(chr(0), "@")] = "CONNECTED"
                except OSError as e:
                    result[path.replace(chr(0), "@")] = e.errno
                finally:
                    s.close()
            print(json.dumps(result))
            """,
        )
    finally:
        for listener in listeners:
            listener.close()
    assert len(got) == 4
    assert all(v != "CONNECTED" for v in got.values()), got


def test_memory_limit_kills_an_allocation_past_it(ws: SandboxEnv) -> None:
    got = run(
        ws,
        f"""
        import json, subprocess, sys
        code = "x = bytearray({MEM_LIMIT * 2}); x[::4096] = b'1' * len(x[::4096]); print('kept')"
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        print(json.dumps({{"rc": p.returncode, "out": p.stdout}}))
        """,
    )
    assert got["out"] == "" and got["rc"] != 0, got


CPU_HOG = """
import os, time
end = time.monotonic() + 3
pids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        while time.monotonic() < end:
            pass
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
t = os.times()
print(t.children_user + t.children_system)
"""


def test_cpu_quota_holds_two_busy_processes_to_one_core(ws: SandboxEnv) -> None:
    got = run(
        ws,
        f"""
        import json, subprocess, sys
        p = subprocess.run([sys.executable, "-c", {CPU_HOG!r}], capture_output=True, text=True)
        print(json.dumps({{"cpu_seconds": float(p.stdout)}}))
        """,
    )
    # two busy processes for 3 s would use up to 6 CPU-seconds on two free cores
    assert got["cpu_seconds"] <= 3 * CPU_FRACTION * 1.25, got


FORK_BOMB = """
import os, signal, time
os.setpgrp()
n = 0
try:
    for _ in range(LIMIT):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
    result = "unbounded"
except OSError as e:
    result = e.errno
print(n, result, flush=True)
os.killpg(0, signal.SIGKILL)
"""


def test_fork_bomb_stops_at_the_process_limit(ws: SandboxEnv) -> None:
    bomb = FORK_BOMB.replace("LIMIT", str(PIDS_LIMIT * 4))
    got = run(
        ws,
        f"""
        import json, subprocess, sys
        p = subprocess.run([sys.executable, "-c", {bomb!r}], capture_output=True, text=True)
        n, result = p.stdout.split()
        print(json.dumps({{"forked": int(n), "result": result}}))
        """,
    )
    assert got["result"] == "11", got  # EAGAIN
    assert got["forked"] < PIDS_LIMIT


def test_disk_fills_up_at_its_limit(ws: SandboxEnv) -> None:
    got = run(
        ws,
        f"""
        import json, os
        written, err = 0, None
        block = b"x" * (1 << 20)
        try:
            with open("fill.bin", "wb") as f:
                for _ in range({DISK_LIMIT * 4 // (1 << 20)}):
                    f.write(block)
                    written += len(block)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            err = e.errno
        os.remove("fill.bin")
        print(json.dumps({{"written": written, "errno": err}}))
        """,
    )
    assert got["errno"] == 28, got  # ENOSPC
    assert got["written"] <= DISK_LIMIT


def test_no_user_namespaces_no_privileges(ws: SandboxEnv) -> None:
    got = run(
        ws,
        """
        import ctypes, json, os, stat, subprocess
        libc = ctypes.CDLL(None, use_errno=True)
        result = {}
        for name, flag in {"user": 0x10000000, "mount": 0x00020000, "net": 0x40000000}.items():
            rc = libc.unshare(flag)
            result[name] = "CREATED" if rc == 0 else ctypes.get_errno()
        p = subprocess.run(["unshare", "--user", "--map-root-user", "id", "-u"],
                           capture_output=True, text=True)
        result["unshare_cmd"] = p.returncode
        status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
        result["no_new_privs"] = status["NoNewPrivs"].strip()
        result["cap_eff"] = status["CapEff"].strip()
        privileged = []
        for root, dirs, files in os.walk("/"):
            if root.startswith(("/proc", "/sys", "/dev")):
                dirs[:] = []
                continue
            for f in files:
                path = os.path.join(root, f)
                try:
                    mode = os.lstat(path).st_mode
                except OSError:
                    continue
                if stat.S_ISREG(mode) and mode & (stat.S_ISUID | stat.S_ISGID):
                    privileged.append(path)
        result["setuid"] = privileged
        print(json.dumps(result))
        """,
    )
    assert got["user"] == 1 and got["mount"] == 1 and got["net"] == 1, got  # EPERM
    assert got["unshare_cmd"] != 0
    assert got["no_new_privs"] == "1"
    assert got["cap_eff"] == "0000000000000000"
    assert got["setuid"] == []


def test_processes_are_in_the_workspace_cgroup(ws: SandboxEnv) -> None:
    layout = WorkspaceLayout.of(GRANT, ws.workspace_root, ws.run_root)
    group = cgroups.cgroup_for(ws.cgroup_parent, layout.cgroup_name)
    assert len(group.procs()) >= 2  # bwrap, the server (and its kernel)
    limit_files = [d / "memory.limit_in_bytes" for d in group.dirs] + [
        d / "memory.max" for d in group.dirs
    ]
    limits = {int(p.read_text()) for p in limit_files if p.exists()}
    assert limits and max(limits) <= MEM_LIMIT


def test_every_denied_syscall_is_refused_in_the_kernel(ws: SandboxEnv) -> None:
    """Each call of ``seccomp.DENIED`` (enumerated from the module) answers EPERM in a kernel."""
    numbers = seccomp.ARCHES[platform.machine()][1]
    calls = {name: numbers[name] for name in seccomp.DENIED if name in numbers}
    got = run(
        ws,
        f"""
        import ctypes, json, subprocess, sys
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long

        def call(nr, *args):
            args = [ctypes.c_long(a) for a in args] + [ctypes.c_long(0)] * (6 - len(args))
            ctypes.set_errno(0)
            rc = libc.syscall(ctypes.c_long(nr), *args)
            return ctypes.get_errno() if rc == -1 else "RAN"

        result = {{name: call(nr) for name, nr in {calls!r}.items()}}
        params = (ctypes.c_uint32 * 30)()
        ctypes.set_errno(0)
        rc = libc.syscall(ctypes.c_long({numbers["io_uring_setup"]}), ctypes.c_long(8), params)
        result["io_uring_setup(8, params)"] = ctypes.get_errno() if rc == -1 else "RAN"
        result["personality(ADDR_NO_RANDOMIZE)"] = call({numbers["personality"]}, 0x0040000)
        result["clone3"] = call({numbers["clone3"]})
        # the same from a child process: the filter is inherited
        child = subprocess.run(
            [sys.executable, "-c", "import ctypes; libc = ctypes.CDLL(None, use_errno=True);"
             "print(libc.syscall({numbers["io_uring_setup"]}, 8, 0), ctypes.get_errno())"],
            capture_output=True, text=True)
        result["child io_uring_setup"] = child.stdout.split()
        print(json.dumps(result))
        """,
    )
    assert got.pop("io_uring_setup(8, params)") == errno.EPERM
    assert got.pop("personality(ADDR_NO_RANDOMIZE)") == errno.EPERM
    assert got.pop("clone3") == errno.ENOSYS
    assert got.pop("child io_uring_setup") == ["-1", str(errno.EPERM)]
    assert got == {name: errno.EPERM for name in calls}


def test_ordinary_work_runs_under_the_filter(ws: SandboxEnv) -> None:
    got = run(
        ws,
        """
        import json, os, subprocess, tempfile, threading
        from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
        import numpy as np
        import polars as pl
        frame = pl.DataFrame({"k": [i % 7 for i in range(200_000)], "v": range(200_000)})
        grouped = frame.lazy().group_by("k").agg(pl.col("v").sum()).collect()
        matrix = np.random.default_rng(1).standard_normal((300, 300))
        inverse_ok = bool(np.allclose(matrix @ np.linalg.inv(matrix), np.eye(300), atol=1e-6))
        with ThreadPoolExecutor(8) as pool:
            squares = sum(pool.map(lambda x: x * x, range(100)))
        with ProcessPoolExecutor(2) as pool:
            doubled = sum(pool.map(abs, range(-10, 10)))
        with tempfile.TemporaryDirectory(dir=os.path.expanduser("~")) as tmp:
            path = os.path.join(tmp, "t.parquet")
            frame.write_parquet(path)
            back = pl.read_parquet(path).height
            os.rename(path, path + ".bak")
            listed = os.listdir(tmp)
        echo = subprocess.run(["echo", "ok"], capture_output=True, text=True).stdout.strip()
        print(json.dumps({"groups": grouped.height, "inverse": inverse_ok, "squares": squares,
                          "doubled": doubled, "back": back, "listed": listed, "echo": echo,
                          "threads": threading.active_count() >= 1}))
        """,
    )
    assert got == {"groups": 7, "inverse": True, "squares": 328350, "doubled": 100,
                   "back": 200_000, "listed": ["t.parquet.bak"], "echo": "ok",
                   "threads": True}  # fmt: skip
