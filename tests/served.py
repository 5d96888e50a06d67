"""Serve an ASGI app over real HTTP on a free loopback port, in a thread, for a test."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` while the block runs; the server stops afterwards."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the test server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def portal_app(portal: Any, prefix: str) -> Any:
    """The portal's app with a hub that is never asked: for anonymous requests only."""
    from jupyterhub.services.auth import HubOAuth

    from open_portal.app import create_app
    from open_portal.auth import HubSSO, Signer

    hub_auth = HubOAuth(
        api_token="not-used", oauth_client_id="service-portal", api_url="http://127.0.0.1:9/hub/api"
    )
    return create_app(portal, HubSSO(hub_auth, Signer(b"s" * 32), prefix + "/"), prefix=prefix)
