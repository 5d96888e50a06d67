"""A throwaway JupyterHub (real hub, real configurable-http-proxy) for tests, benchmark and trials.

It listens on 127.0.0.1 only, authenticates with the dummy authenticator, and gives the caller
an admin service token for the REST API.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from sandbox.exceptions import Error


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DevHub:
    """A running hub and how to talk to it."""

    directory: Path
    public_url: str
    api_url: str
    hub_port: int
    proxy_api_port: int
    token: str
    proc: subprocess.Popen[bytes]
    user_tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the hub REST API as the admin service."""
        headers = {"Authorization": f"token {self.token}"}
        return httpx.request(method, self.api_url + path, headers=headers, timeout=120, **kwargs)

    def ensure_user(self, user: str) -> None:
        """Create the hub user if it does not exist yet."""
        r = self.api("POST", f"/users/{user}")
        if r.status_code not in (201, 409):
            r.raise_for_status()

    def user_token(self, user: str) -> str:
        """An API token of ``user`` (created once)."""
        if user not in self.user_tokens:
            self.ensure_user(user)
            r = self.api("POST", f"/users/{user}/tokens", json={"note": "test"})
            r.raise_for_status()
            self.user_tokens[user] = r.json()["token"]
        return self.user_tokens[user]

    def start_server(self, user: str, name: str, timeout: float = 120) -> httpx.Response:
        """Ask for the named server and wait until it is ready (or failed); returns the answer
        of the start request (its status tells a refusal)."""
        self.ensure_user(user)
        r = self.api("POST", f"/users/{user}/servers/{name}")
        if r.status_code not in (201, 202):
            return r
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.server(user, name)
            if server and server.get("ready"):
                return r
            if not server or not server.get("pending"):
                raise Error(
                    f"{user}/{name} failed to start: {self.api('GET', f'/users/{user}').text}"
                )
            time.sleep(0.02)
        raise Error(f"{user}/{name} not ready in {timeout} s")

    def server(self, user: str, name: str) -> dict[str, Any] | None:
        """The hub's model of the named server, or None."""
        r = self.api("GET", f"/users/{user}")
        r.raise_for_status()
        servers: dict[str, Any] = r.json().get("servers", {})
        return servers.get(name)

    def stop_server(self, user: str, name: str, timeout: float = 60) -> None:
        """Stop the named server and wait until it is gone."""
        r = self.api("DELETE", f"/users/{user}/servers/{name}")
        if r.status_code not in (202, 204, 404):
            r.raise_for_status()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.server(user, name)
            if not server or (not server.get("ready") and not server.get("pending")):
                return
            time.sleep(0.05)
        raise Error(f"{user}/{name} did not stop")

    def server_url(self, user: str, name: str) -> str:
        """Public URL (through the proxy) of the named server: on an origin of its own when the
        hub puts user servers on subdomains (``subdomain_host``)."""
        server = self.server(user, name)
        url = str(server["url"]) if server else f"/user/{user}/{name}/"
        return url if "://" in url else self.public_url + url

    def run_code(
        self, user: str, name: str, code: str, timeout: float = 120, path: str | None = None
    ) -> str:
        """Execute ``code`` in a new kernel of the server (through the proxy); return its output.

        ``path`` (relative to the server's root) is the kernel's working directory. Raises
        ``Error`` with the traceback when the code raised.
        """
        return asyncio.run(self._run_code(user, name, code, timeout, path))

    async def _run_code(
        self, user: str, name: str, code: str, timeout: float, path: str | None
    ) -> str:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        token = self.user_token(user)
        base, host = loopback(self.server_url(user, name))
        headers = {"Authorization": f"token {token}", **host}
        async with httpx.AsyncClient(headers=headers, timeout=timeout) as http:
            body = {"name": "python3"} | ({"path": path} if path else {})
            r = await http.post(base + "api/kernels", json=body)
            r.raise_for_status()
            kernel_id = r.json()["id"]
            try:
                ws_url = base.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
                conn = await websocket_connect(HTTPRequest(ws_url, headers=headers))
                msg_id = uuid.uuid4().hex
                conn.write_message(json.dumps(_execute_request(msg_id, code)))
                out: list[str] = []
                error: str | None = None
                deadline = time.monotonic() + timeout
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Error("kernel did not finish in time")
                    raw = await asyncio.wait_for(conn.read_message(), remaining)
                    if raw is None:
                        raise Error("kernel connection closed")
                    msg = json.loads(raw)
                    if msg.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind, content = msg["msg_type"], msg["content"]
                    if kind == "stream":
                        out.append(content["text"])
                    elif kind == "error":
                        error = "\n".join(content.get("traceback", [])) or content.get("evalue")
                    elif kind == "status" and content["execution_state"] == "idle":
                        break
                conn.close()
            finally:
                await http.delete(base + f"api/kernels/{kernel_id}")
        if error is not None:
            raise Error(f"code raised in the workspace:\n{error}")
        return "".join(out)

    def close(self) -> None:
        """Stop the hub (its spawners stop their servers first)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def loopback(url: str) -> tuple[str, dict[str, str]]:
    """Where to connect for ``url``, and the Host header to send.

    Browsers resolve every name under ``localhost`` to loopback (the demo's workspace origins,
    ``<user>.localhost``); the system resolver may not, so connect to 127.0.0.1 and name the
    host in the header.
    """
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.endswith(".localhost"):
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc}
    return url, {}


def _execute_request(msg_id: str, code: str) -> dict[str, Any]:
    return {
        "header": {
            "msg_id": msg_id,
            "username": "test",
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "channel": "shell",
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    }


def start_hub(
    directory: Path, spawner_config: str, *, env: dict[str, str] | None = None, attempts: int = 3
) -> DevHub:
    """Write a config into ``directory`` and start ``jupyterhub -f`` with it.

    ``spawner_config`` is Python appended to the config (``c.JupyterHub.spawner_class = ...``).
    A hub that exits while starting (a port taken meanwhile) is tried again on new ports.
    """
    for attempt in range(attempts):
        try:
            return _start_hub(directory, spawner_config, env)
        except HubExited:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


class HubExited(Error):
    """The hub process ended while starting."""


def _start_hub(directory: Path, spawner_config: str, env: dict[str, str] | None) -> DevHub:
    directory.mkdir(parents=True, exist_ok=True)
    port, hub_port, proxy_api_port = free_port(), free_port(), free_port()
    token = secrets.token_hex(24)
    chp = shutil.which("configurable-http-proxy") or "configurable-http-proxy"
    config = directory / "jupyterhub_config.py"
    config.write_text(
        f"""
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = "sqlite:///{directory}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{directory}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "{directory}/jupyterhub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.allow_named_servers = True
c.JupyterHub.cleanup_servers = True
c.JupyterHub.services = [{{"name": "dev-admin", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{"name": "dev-admin", "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"],
      "services": ["dev-admin"]}},
]
c.Spawner.poll_interval = 1
c.Spawner.http_timeout = 60
"""
        + spawner_config
    )
    log = open(directory / "hub.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(config)],
        cwd=directory,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    log.close()
    hub = DevHub(
        directory=directory,
        public_url=f"http://127.0.0.1:{port}",
        api_url=f"http://127.0.0.1:{port}/hub/api",
        hub_port=hub_port,
        proxy_api_port=proxy_api_port,
        token=token,
        proc=proc,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log_text = (directory / "hub.log").read_text(errors="replace")[-3000:]
            raise HubExited(f"hub exited with {proc.returncode}: {log_text}")
        try:
            if hub.api("GET", "/").status_code == 200:
                return hub
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    hub.close()
    raise Error("hub did not come up in 60 s")
