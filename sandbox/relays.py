"""Byte relays between the host's loopback and a workspace's Unix sockets (asyncio, in the hub).

The workspace has no network. The hub and the proxy reach its server through a loopback TCP
port relayed to the server's Unix socket; the workspace reaches the hub API and the portal
through Unix sockets relayed to their loopback addresses, and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from sandbox.exceptions import IsolationError

_CHUNK = 65536


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


async def _splice(
    a: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    b: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> None:
    try:
        await asyncio.gather(_pump(a[0], b[1]), _pump(b[0], a[1]))
    finally:
        for w in (a[1], b[1]):
            await _close(w)


async def open_workspace_socket(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to a socket the workspace created, without following a link it may have planted."""
    fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise IsolationError(f"{path} is not a socket")
        return await asyncio.open_unix_connection(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


class Relay:
    """One listening relay; ``close()`` stops it and its open connections."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _track(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self.server is not None:
            self.server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.server = None


class TcpToUnix(Relay):
    """Loopback TCP port on the host → the workspace server's Unix socket."""

    def __init__(self, socket_path: Path, host: str = "127.0.0.1") -> None:
        super().__init__()
        self.socket_path = socket_path
        self.host = host
        self.port = 0

    async def start(self, port: int = 0) -> int:
        """Listen on ``port`` (0 picks one); return the port."""
        self.server = await asyncio.start_server(self._handle, self.host, port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream = await open_workspace_socket(self.socket_path)
        except (OSError, IsolationError):
            await _close(writer)
            return
        self._track(_splice((reader, writer), upstream))


class UnixToTcp(Relay):
    """A Unix socket the workspace may connect to → one fixed loopback address of the host."""

    def __init__(self, socket_path: Path, host: str, port: int) -> None:
        super().__init__()
        self.socket_path = socket_path
        self.host = host
        self.port = port

    async def start(self, uid: int, gid: int) -> None:
        """Listen, with the socket owned by the workspace account, mode 0600."""
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self.server = await asyncio.start_unix_server(self._handle, str(self.socket_path))
        os.chown(self.socket_path, uid, gid)
        os.chmod(self.socket_path, 0o600)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream = await asyncio.open_connection(self.host, self.port)
        except OSError:
            await _close(writer)
            return
        self._track(_splice((reader, writer), upstream))

    async def close(self) -> None:
        await super().close()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
