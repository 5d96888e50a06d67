"""The relays move bytes both ways and refuse a planted link."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest

from sandbox.exceptions import IsolationError
from sandbox.relays import TcpToUnix, UnixToTcp, open_workspace_socket


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bytes:
    payload = b"a" * n
    writer.write(payload)
    await writer.drain()
    got = await reader.readexactly(n)
    writer.close()
    await writer.wait_closed()
    return got


async def test_tcp_to_unix_relays_large_payloads(tmp_path: Path) -> None:
    sock = tmp_path / "server.sock"
    server = await asyncio.start_unix_server(echo, str(sock))
    relay = TcpToUnix(sock)
    port = await relay.start()
    try:
        got = await roundtrip(*await asyncio.open_connection("127.0.0.1", port), 1_000_000)
        assert got == b"A" * 1_000_000
    finally:
        await relay.close()
        server.close()


async def test_unix_to_tcp_relays_to_one_address_with_owner_and_mode(tmp_path: Path) -> None:
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bridge = UnixToTcp(tmp_path / "hub.sock", "127.0.0.1", port)
    await bridge.start(os.getuid(), os.getgid())
    try:
        assert (tmp_path / "hub.sock").stat().st_mode & 0o777 == 0o600
        got = await roundtrip(*await asyncio.open_unix_connection(str(tmp_path / "hub.sock")), 10)
        assert got == b"A" * 10
    finally:
        await bridge.close()
        server.close()
    assert not (tmp_path / "hub.sock").exists()


async def test_a_link_planted_in_place_of_the_socket_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "host-service.sock"
    server = await asyncio.start_unix_server(echo, str(target))
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "jupyter.sock").symlink_to(target)
    try:
        with pytest.raises(IsolationError):
            await open_workspace_socket(tmp_path / "server" / "jupyter.sock")
        relay = TcpToUnix(tmp_path / "server" / "jupyter.sock")
        port = await relay.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"hello")
        await writer.drain()
        try:
            data = await reader.read(10)
        except ConnectionResetError:
            data = b""
        assert data == b""  # closed without reaching the host service
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        await relay.close()
    finally:
        server.close()
