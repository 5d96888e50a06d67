"""``SandboxSpawner``: one isolated Jupyter server per active grant, at ``/user/<name>/<grant>``.

The spawner holds the traits and the lifecycle; the OS work lives in ``accounts``, ``cgroups``,
``disk``, ``mounts``, ``bwrap``, ``seccomp`` and ``relays``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, urlparse

from jupyterhub.spawner import LocalProcessSpawner, SpawnException
from traitlets import Bool, Callable, Float, Integer, List, Unicode, Union, default

from sandbox import accounts, bwrap, cgroups, disk, events, members, mounts, seccomp, welcome
from sandbox.config import get_settings
from sandbox.exceptions import Error, IsolationError
from sandbox.grants import (
    WorkspaceGrant,
    WorkspaceLimits,
    load_provider,
    refusal,
    resolve_grant,
)
from sandbox.relays import TcpToUnix, UnixToTcp, open_workspace_socket
from sandbox.workspace import WorkspaceLayout

SERVER_PORT_INSIDE = 8888  # what the single-user server is told; it listens on a socket only


class SandboxSpawner(LocalProcessSpawner):
    """Start a grant's workspace in its own account, cgroup, volume and bubblewrap sandbox."""

    grant_provider = Union(
        [Unicode(), Callable()],
        help="""Where grants come from: an import string "module:function" or a callable.

        Called as ``provider(user_name, server_name)`` (may be async) and returns a
        ``sandbox.grants.WorkspaceGrant`` or None. The server name is the grant id. No grant, a
        grant of another user, or an inactive or ended grant refuses the start.
        """,
    ).tag(config=True)

    credential_issuer = Union(
        [Unicode(), Callable()],
        help="""Issues the workspace's portal credential: "module:function" or a callable.

        Called as ``issuer(user_name, server_name)`` (may be async) at each start; returns the
        credential, given to the workspace as ``$PDS_WORKSPACE_TOKEN``. The portal accepts it
        only on that grant's workspace API. Empty: the workspace gets no portal credential.
        """,
    ).tag(config=True)

    credential_revoker = Union(
        [Unicode(), Callable()],
        help="""Revokes the credential of a member's workspace when it stops or fails to start:
        "module:function" or a callable, called as ``revoker(user_name, server_name)``.""",
    ).tag(config=True)

    workspace_root = Unicode(
        help="""Host directory holding one directory per grant workspace (volume image, home).

        Must be traversable by the workspace accounts (it is created 0711); keep it outside the
        data directory, whose other contents must never be reachable from a workspace.
        Default: ``$PDS_WORKSPACE_ROOT`` or /var/lib/pds/workspaces.
        """,
    ).tag(config=True)

    run_root = Unicode(
        help="""Host directory for each workspace's sockets, minimal /etc and release mount.

        Default: ``$PDS_WORKSPACE_RUN_DIR`` or /run/pds.
        """,
    ).tag(config=True)

    workspace_env = Unicode(
        help="""The workspace Python environment (built by scripts/workspace-env.sh), mounted
        read-only at the same path. Default: ``$PDS_WORKSPACE_ENV`` or /opt/pds/workspace-env.
        """,
    ).tag(config=True)

    portal_url = Unicode(
        "",
        help="""Loopback URL of the portal service (e.g. http://127.0.0.1:10101), reached from the
        workspace only through the Unix socket /run/pds/portal.sock. Empty: no portal socket.
        """,
    ).tag(config=True)

    pids_limit = Integer(
        256,
        help="Most processes and threads of a workspace (pids cgroup), unless the grant sets it.",
    ).tag(config=True)

    disk_limit = Integer(
        1024**3,
        help="""Bytes of the workspace's home volume (a loop-mounted ext4 image), unless the grant
        sets it. 0: a plain directory without a disk limit.""",
    ).tag(config=True)

    cgroup_parent = Unicode(
        "pds",
        help="Parent cgroup (under each v1 controller, or the v2 root) of the workspace cgroups.",
    ).tag(config=True)

    seccomp_filter = Bool(
        True,
        help="Apply the seccomp filter of sandbox.seccomp (namespaces, mount, ptrace, bpf, ...).",
    ).tag(config=True)

    hide_setuid_files = Bool(
        True,
        help="Mask every setuid/setgid file of /usr with /dev/null inside the workspace.",
    ).tag(config=True)

    stop_grace = Float(
        3.0,
        help="Seconds between SIGTERM and SIGKILL of the workspace's processes when stopping.",
    ).tag(config=True)

    recheck_grant = Bool(
        True,
        help="""Ask the grant provider again at every poll and stop the workspace at once when
        the grant is no longer active (suspended, revoked, ended).""",
    ).tag(config=True)

    singleuser_args = List(
        Unicode(),
        help="Extra arguments to jupyterhub-singleuser inside the workspace.",
    ).tag(config=True)

    # grant id -> the member whose server runs the grant's workspace now (one at a time)
    _holders: ClassVar[dict[str, str]] = {}
    _scan_started: ClassVar[bool] = False

    relay_port = Integer(0, help="Loopback port of the relay to this server (state).")
    grant_id = Unicode("", help="The grant this server was started for (state).")

    @default("workspace_root")
    def _default_workspace_root(self) -> str:
        return str(get_settings().workspace_root)

    @default("run_root")
    def _default_run_root(self) -> str:
        return str(get_settings().workspace_run_dir)

    @default("workspace_env")
    def _default_workspace_env(self) -> str:
        return str(get_settings().workspace_env)

    @default("env_keep")
    def _default_env_keep(self) -> list[str]:
        return ["LANG", "LC_ALL"]

    @default("mem_limit")
    def _default_mem_limit(self) -> int:
        return 2 * 1024**3

    @default("cpu_limit")
    def _default_cpu_limit(self) -> float:
        return 1.0

    @default("hub_connect_url")
    def _default_hub_connect_url(self) -> str:
        return "http+unix://" + quote(bwrap.HUB_SOCKET, safe="")

    @default("server_token_scopes")
    def _default_server_token_scopes(self) -> list[str]:
        # no access to the portal: the workspace talks to it only with its grant's credential
        return ["users:activity!user", "access:servers!server"]

    @default("default_url")
    def _default_default_url(self) -> str:
        return "/lab"

    @default("start_timeout")
    def _default_start_timeout(self) -> int:
        return 300

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._relays: list[TcpToUnix | UnixToTcp] = []
        self._grant: WorkspaceGrant | None = None
        self._progress: list[dict[str, Any]] = []
        self._credential = ""
        self._language = welcome.DEFAULT_LANGUAGE
        if self.hide_setuid_files and not SandboxSpawner._scan_started:
            # warm the cache of setuid files (a walk of /usr) before the first start needs it
            SandboxSpawner._scan_started = True
            threading.Thread(target=bwrap.privileged_files, daemon=True).start()

    # ----- state -------------------------------------------------------------------------

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.relay_port = state.get("relay_port", 0)
        self.grant_id = state.get("grant_id", "")

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = super().get_state()
        if self.relay_port:
            state["relay_port"] = self.relay_port
        if self.grant_id:
            state["grant_id"] = self.grant_id
        return state

    def clear_state(self) -> None:
        super().clear_state()
        self.relay_port = 0

    # ----- helpers -----------------------------------------------------------------------

    def layout(self, grant_id: str) -> WorkspaceLayout:
        """Host paths of a grant's workspace."""
        return WorkspaceLayout.of(grant_id, Path(self.workspace_root), Path(self.run_root))

    def limits_for(self, grant: WorkspaceGrant) -> WorkspaceLimits:
        """The grant's limits, or this spawner's defaults."""
        if grant.limits is not None:
            return grant.limits
        return WorkspaceLimits(
            mem_bytes=int(self.mem_limit),
            cpu_fraction=float(self.cpu_limit),
            max_pids=self.pids_limit,
            disk_bytes=self.disk_limit,
        )

    async def _check_grant(self) -> WorkspaceGrant:
        if not self.grant_provider:
            raise SpawnException(
                "Workspaces are not configured (no grant provider). 工作空间未配置。",
                reason="no_grant_provider",
                status_code=500,
            )
        provider = load_provider(self.grant_provider)
        grant = await resolve_grant(provider, self.user.name, self.name)
        why = refusal(grant, self.user.name, self.name)
        if why is not None or grant is None:
            raise SpawnException(why or "", reason="no_active_grant", status_code=403)
        return grant

    # ----- environment -------------------------------------------------------------------

    def user_env(self, env: dict[str, str]) -> dict[str, str]:
        """The sandbox's environment: configuration and start-up code only from this member's
        own home (see ``sandbox.members``)."""
        env.update(
            USER="workspace",
            SHELL="/bin/bash",
            PATH=f"{self.workspace_env}/bin:/usr/bin:/bin",
            LANG=env.get("LANG", "C.UTF-8"),
            TMPDIR="/tmp",
            JUPYTER_RUNTIME_DIR="/tmp/jupyter-runtime",
            **members.member_environment(bwrap.HOME),
        )
        for name in members.UNSET_ENV:
            env.pop(name, None)
        return env

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        # the server listens on a Unix socket; it must not be told the relay's port
        base_url = self.server.base_url if self.server else "/"
        env["JUPYTERHUB_SERVICE_URL"] = f"http://127.0.0.1:{SERVER_PORT_INSIDE}{base_url}"
        grant = self._grant
        if grant is not None:
            env["PDS_GRANT_ID"] = grant.grant_id
            env["PDS_GRANT_LEVEL"] = grant.level
            env["PDS_GRANT_ENDS_AT"] = grant.ends_at.isoformat()
            if grant.level != "L3" and grant.release_dir is not None:
                env["PDS_RELEASE_DIR"] = bwrap.RELEASE
        if self.portal_url:
            env["PDS_PORTAL_SOCKET"] = bwrap.PORTAL_SOCKET
        if self._credential:
            env["PDS_WORKSPACE_TOKEN"] = self._credential
        env["PDS_LANG"] = self._language
        return env

    def member_language(self) -> str:
        """The member's language: the spawn's options (``{"lang": "en"}``), else the portal's
        language cookie on the request that started the spawn, else Chinese."""
        handler = self.handler
        cookie = handler.get_cookie(welcome.LANG_COOKIE) if handler is not None else None
        return welcome.language(self.user_options, cookie)

    async def _call_hook(self, hook: Any, grant_id: str) -> Any:
        """Call a credential hook ("module:function" or callable) as ``hook(user, grant)``."""
        function = load_provider(hook)
        result = (
            function(self.user.name, grant_id)
            if asyncio.iscoroutinefunction(function)
            else await asyncio.to_thread(function, self.user.name, grant_id)
        )
        return await result if asyncio.iscoroutine(result) else result

    async def _revoke_credential(self, grant_id: str) -> None:
        self._credential = ""
        if self.credential_revoker:
            try:
                await self._call_hook(self.credential_revoker, grant_id)
            except Exception:
                self.log.exception("could not revoke the credential of %s", self._log_name)

    # ----- lifecycle ---------------------------------------------------------------------

    def _claim(self, grant_id: str) -> None:
        """Take the grant's workspace for this member, or refuse while another member has it."""
        holder = self._holders.get(grant_id)
        if holder is not None and holder != self.user.name:
            raise SpawnException(
                f"The workspace of grant '{grant_id}' is open by {holder}; members use it one at "
                f"a time. 授权「{grant_id}」的工作空间正由 {holder} 使用，成员需依次使用。",
                reason="workspace_in_use",
                status_code=409,
            )
        self._holders[grant_id] = self.user.name

    def _holds(self, grant_id: str) -> bool:
        """True if this member's server holds the workspace, or nobody does (after a restart)."""
        return self._holders.get(grant_id, self.user.name) == self.user.name

    def _release_claim(self, grant_id: str) -> None:
        if self._holders.get(grant_id) == self.user.name:
            del self._holders[grant_id]

    def _step(self, percent: int, message: str) -> None:
        self._progress.append({"progress": percent, "message": message})

    async def progress(self) -> Any:
        """What the spawn page shows while the workspace starts."""
        seen = 0
        while True:
            while seen < len(self._progress):
                yield self._progress[seen]
                seen += 1
            if self._progress and self._progress[-1]["progress"] >= 100:
                return
            await asyncio.sleep(0.1)

    async def start(self) -> tuple[str, int]:
        """Check the grant, prepare the workspace, start the server in the sandbox."""
        self._progress = []
        self._step(10, "Checking the grant · 核对授权")
        try:
            grant = await self._check_grant()
            self._claim(grant.grant_id)
        except SpawnException as e:
            self._step(100, e.message)
            raise
        self._grant = grant
        self.grant_id = grant.grant_id
        self._language = self.member_language()
        limits = self.limits_for(grant)
        layout = self.layout(grant.grant_id)
        account = layout.account
        began = time.perf_counter()
        try:
            self._step(25, "Preparing the workspace and its data · 准备工作空间与数据")
            if self.credential_issuer:
                self._credential = str(
                    await self._call_hook(self.credential_issuer, grant.grant_id)
                )
            uid, gid = await asyncio.to_thread(accounts.ensure_account, account)
            group, member = await asyncio.to_thread(self._prepare, grant, layout, limits, uid, gid)
            await self._start_bridges(layout, uid, gid)
            relay = TcpToUnix(layout.server_socket)
            self.relay_port = self.port = await relay.start()
            self._relays.append(relay)
            env = self.get_env()
            argv = [
                f"{self.workspace_env}/bin/jupyterhub-singleuser",
                f"--ServerApp.sock={bwrap.SERVER_SOCKET}",
                f"--ServerApp.root_dir={bwrap.HOME}",
                *members.SERVER_ARGS,
                *self.singleuser_args,
                *self.get_args(),
            ]
            self._step(50, "Starting the isolated server · 启动隔离的服务")
            hide = await asyncio.to_thread(bwrap.privileged_files) if self.hide_setuid_files else ()
            prepared = time.perf_counter()
            self.proc = self._launch(layout, member, argv, env, group, uid, gid, hide)
            self.pid = self.proc.pid
            await self._wait_ready(layout)
            self.log.info(
                "workspace %s: isolation set up in %.2f s, server listening %.2f s later",
                grant.grant_id,
                prepared - began,
                time.perf_counter() - prepared,
            )
            self._step(100, "Workspace ready · 工作空间已就绪")
        except SpawnException as e:
            self._step(100, e.message)
            await self._abort(layout)
            raise
        except Exception as e:
            self._step(100, "Failed · 失败")
            await self._abort(layout)
            self.log.exception("workspace %s could not start", grant.grant_id)
            raise SpawnException(
                f"The workspace could not be isolated: {e}. 工作空间无法隔离。",
                reason="isolation",
                status_code=500,
            ) from e
        await asyncio.to_thread(
            events.record,
            events.STARTED,
            actor=self.user.name,
            grant_id=grant.grant_id,
            obj=f"server:{self.user.name}/{self.name}",
            details={
                "account": account,
                "level": grant.level,
                "mem_bytes": limits.mem_bytes,
                "cpu_fraction": limits.cpu_fraction,
                "max_pids": limits.max_pids,
                "disk_bytes": limits.disk_bytes,
            },
        )
        return ("127.0.0.1", self.relay_port)

    def _prepare(
        self,
        grant: WorkspaceGrant,
        layout: WorkspaceLayout,
        limits: WorkspaceLimits,
        uid: int,
        gid: int,
    ) -> tuple[cgroups.Cgroup, members.MemberPaths]:
        """Directories, volume, this member's home (with its welcome notebook), cgroup, /etc
        (with JupyterLab's settings in the member's language) and the release mount (blocking;
        in a thread)."""
        layout.create(uid, gid)
        if limits.disk_bytes > 0:
            disk.ensure_volume(layout.image, layout.home, limits.disk_bytes, uid, gid)
        else:
            layout.home.mkdir(mode=0o700, exist_ok=True)
        member = members.prepare(layout.home, self.user.name, uid, gid)
        bwrap.write_etc(layout.etc, uid, gid)
        welcome.write_lab_config(layout.etc, self._language)
        welcome.place_notebook(member.home, grant, self._language, uid, gid)
        group = cgroups.create(self.cgroup_parent, layout.cgroup_name, limits)
        if grant.level != "L3" and grant.release_dir is not None:
            files = share_release(grant.release_dir, gid)
            mounts.bind_readonly(grant.release_dir, layout.release)
            events.record(
                events.DATA_MOUNTED,
                actor=self.user.name,
                grant_id=grant.grant_id,
                obj=f"release:{grant.release_dir.name}",
                details={"mounted_at": bwrap.RELEASE, "read_only": True, "files": files},
            )
        return group, member

    async def _start_bridges(self, layout: WorkspaceLayout, uid: int, gid: int) -> None:
        hub = urlparse(self.hub.api_url)
        targets = [(layout.hub_socket, hub.hostname or "127.0.0.1", hub.port or 80)]
        if self.portal_url:
            portal = urlparse(self.portal_url)
            targets.append(
                (layout.portal_socket, portal.hostname or "127.0.0.1", portal.port or 80)
            )
        for path, host, port in targets:
            bridge = UnixToTcp(path, host, port)
            await bridge.start(uid, gid)
            self._relays.append(bridge)

    def _launch(
        self,
        layout: WorkspaceLayout,
        member: members.MemberPaths,
        argv: list[str],
        env: dict[str, str],
        group: cgroups.Cgroup,
        uid: int,
        gid: int,
        hide: tuple[str, ...],
    ) -> subprocess.Popen[bytes]:
        fd = seccomp.program_fd() if self.seccomp_filter else None
        paths = bwrap.SandboxPaths(
            home=member.home,
            run_dir=layout.run_dir,
            env=Path(self.workspace_env),
            release=layout.release if layout.release.is_dir() and self._release_mounted() else None,
            shared=member.shared(),
        )
        cmd = bwrap.command(paths, argv, fd, hide)
        self.log.info("Starting workspace %s as %s", self.grant_id, uid)

        def preexec() -> None:
            cgroups.join(group)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            os.umask(0o077)

        log = open(layout.log_file, "wb")  # noqa: SIM115 - handed to the child
        try:
            return subprocess.Popen(
                cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=preexec,
                start_new_session=True,
                pass_fds=(fd,) if fd is not None else (),
                cwd="/",
            )
        finally:
            log.close()
            if fd is not None:
                os.close(fd)

    def _release_mounted(self) -> bool:
        grant = self._grant
        return grant is not None and grant.level != "L3" and grant.release_dir is not None

    async def _wait_ready(self, layout: WorkspaceLayout) -> None:
        """Wait until the server's socket accepts connections; report why if the server died."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                tail = _tail(layout.log_file)
                last = tail.splitlines()[-1] if tail else f"exit status {self.proc.returncode}"
                raise SpawnException(
                    f"The workspace server exited while starting. 工作空间启动失败。 ({last})",
                    reason="died_at_start",
                    log_message=f"workspace {self.grant_id} died at start:\n{tail}",
                    status_code=500,
                )
            if layout.server_socket.exists():
                with contextlib.suppress(OSError, IsolationError):
                    _, writer = await open_workspace_socket(layout.server_socket)
                    writer.close()
                    await writer.wait_closed()
                    return
            await asyncio.sleep(0.02)
        raise SpawnException(
            "The workspace server did not start in time. 工作空间启动超时。",
            reason="timeout",
            status_code=500,
        )

    async def poll(self) -> int | None:
        """None while the sandbox runs and its grant is active.

        A grant found suspended, revoked or ended stops the workspace here (the hub polls every
        ``poll_interval`` seconds); the relays are restored after a hub restart.
        """
        status: int | None = await super().poll()
        if status is not None:
            return status
        if self.recheck_grant and self.grant_provider:
            try:
                await self._check_grant()
            except SpawnException as e:
                self.log.warning("stopping %s: %s", self._log_name, e.message)
                await self.stop(now=True)
                return 1
            except Exception:
                self.log.exception("grant check of %s failed; left running", self._log_name)
        if not self._relays and self.grant_id and self.relay_port:
            with contextlib.suppress(Error, OSError):
                await self._restore_relays()
        return None

    async def _restore_relays(self) -> None:
        layout = self.layout(self.grant_id)
        ids = accounts.lookup(layout.account)
        if ids is None:
            return
        await self._start_bridges(layout, *ids)
        relay = TcpToUnix(layout.server_socket)
        await relay.start(self.relay_port)
        self._relays.append(relay)

    async def stop(self, now: bool = False) -> None:
        """Stop every process of the workspace (its cgroup), the relays and the mounts."""
        grant_id = self.grant_id or self.name
        if not self._holds(grant_id):
            # another member's server runs this grant's workspace: nothing of ours to stop
            self.clear_state()
            return
        layout = self.layout(grant_id)
        group = cgroups.cgroup_for(self.cgroup_parent, layout.cgroup_name)
        if not now and self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + self.stop_grace
            while time.monotonic() < deadline and await super().poll() is None:
                await asyncio.sleep(0.05)
        await asyncio.to_thread(cgroups.kill_all, group)
        if self.proc is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.proc.wait, 5)
        await self._teardown(layout)
        await self._revoke_credential(grant_id)
        await asyncio.to_thread(cgroups.remove, group)
        self.clear_state()
        self._release_claim(grant_id)
        await asyncio.to_thread(
            events.record,
            events.STOPPED,
            actor=self.user.name,
            grant_id=grant_id,
            obj=f"server:{self.user.name}/{self.name}",
            details={"now": now},
        )

    async def _abort(self, layout: WorkspaceLayout) -> None:
        """Undo a failed start: kill what runs, drop relays and mounts."""
        group = cgroups.cgroup_for(self.cgroup_parent, layout.cgroup_name)
        with contextlib.suppress(Error, OSError):
            await asyncio.to_thread(cgroups.kill_all, group)
        await self._teardown(layout)
        await self._revoke_credential(layout.grant_id)
        with contextlib.suppress(OSError):
            await asyncio.to_thread(cgroups.remove, group)
        self.clear_state()
        self._release_claim(layout.grant_id)

    async def _teardown(self, layout: WorkspaceLayout) -> None:
        for relay in self._relays:
            await relay.close()
        self._relays = []
        await asyncio.to_thread(_unmount_all, layout)


def share_release(release: Path, gid: int) -> list[str]:
    """Make a release readable by the workspace group ``gid`` and nobody else; list its files.

    Every directory becomes root:gid 0750 and every file root:gid 0640, so other accounts on the
    host (other workspaces among them) cannot read it. A release is written by the portal for one
    grant; a link or special file in it refuses the mount.
    """
    if not release.is_dir() or release.is_symlink():
        raise IsolationError(f"the release directory {release} does not exist")
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(release):
        here = Path(dirpath)
        for name in dirnames + filenames:
            path = here / name
            mode = path.lstat().st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise IsolationError(f"release entry {path.relative_to(release)} is not a file")
            if stat.S_ISREG(mode):
                files.append(str(path.relative_to(release)))
        for path, mode in [(here, 0o750)] + [(here / f, 0o640) for f in filenames]:
            os.chown(path, 0, gid, follow_symlinks=False)
            os.chmod(path, mode)
    return sorted(files)


def _unmount_all(layout: WorkspaceLayout) -> None:
    mounts.unbind(layout.release)
    disk.unmount(layout.home)
    shutil.rmtree(layout.server_dir, ignore_errors=True)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
