"""The in-workspace client against a portal stand-in on a real Unix socket."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sandbox import client

GRANT = {
    "grant_id": "g-1",
    "level": "L2",
    "ends_at": "2030-01-01T00:00:00+00:00",
    "datasets": [
        {"id": "births", "title": "Births", "level": "L2", "file": "births.parquet"},
        {"id": "escape", "title": "Bad", "level": "L2", "file": "../outside.parquet"},
        {"id": "payments", "title": "Payments", "level": "L3", "file": None},
    ],
    "budget": {"total": 1.0, "spent": 0.4, "remaining": 0.6},
}


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def address_string(self) -> str:
            return "workspace"

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            seen.append({"path": self.path, "auth": self.headers["Authorization"]})
            if self.path == "/services/portal/api/workspace/grants/g-1":
                self._send(200, GRANT)
            else:
                self._send(403, {"detail": "not your grant"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "body": body})
            if self.path.endswith("/dp"):
                self._send(200, {"value": 7.5})
            else:
                self._send(201, {"id": "EXP-9", "status": "submitted"})

    sock = tmp_path / "portal.sock"
    server = UnixHTTPServer(str(sock), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    release = tmp_path / "release"
    release.mkdir()
    pl.DataFrame({"n": [1, 2, 3]}).write_parquet(release / "births.parquet")
    pl.DataFrame({"n": [9]}).write_parquet(tmp_path / "outside.parquet")
    monkeypatch.setenv("PDS_PORTAL_SOCKET", str(sock))
    monkeypatch.setenv("PDS_RELEASE_DIR", str(release))
    monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", "g-1")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "server-token-not-for-the-portal")
    monkeypatch.setenv("PDS_WORKSPACE_TOKEN", "pdsw_tok")
    monkeypatch.setenv("PDS_GRANT_LEVEL", "L2")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    yield seen
    server.shutdown()
    server.server_close()


def test_reads_the_grant_with_the_workspace_credential(portal: list[dict[str, Any]]) -> None:
    assert [d["id"] for d in client.datasets()] == ["births", "escape", "payments"]
    assert client.remaining_budget() == 0.6
    assert client.ends_at().year == 2030
    assert portal[0]["auth"] == "workspace pdsw_tok"
    assert all("server-token" not in str(seen) for seen in portal)


def test_load_gives_a_lazy_frame_inside_the_release_only(portal: list[dict[str, Any]]) -> None:
    frame = client.load("births")
    assert isinstance(frame, pl.LazyFrame)
    assert frame.collect()["n"].sum() == 6
    with pytest.raises(client.ClientError):
        client.load("escape")
    with pytest.raises(client.ClientError):
        client.load("missing")


def test_a_dataset_granted_at_l3_has_no_record_level_load(portal: list[dict[str, Any]]) -> None:
    """One grant, each dataset at its own level: the L2 one loads, the L3 one says to use DP."""
    assert client.load("births").collect().height == 3
    with pytest.raises(client.ClientError, match=r"granted at L3.*dp"):
        client.load("payments")
    assert client.dp_query({"dataset": "payments", "kind": "count"}) == {"value": 7.5}


def test_export_requests_name_outbox_files_only(portal: list[dict[str, Any]]) -> None:
    (client.outbox() / "t.csv").write_text("a\n1\n")
    assert client.request_export(["t.csv"], justification="fig 1", controls="none") == "EXP-9"
    assert portal[-1]["body"] == {
        "files": ["t.csv"],
        "justification": "fig 1",
        "controls": "none",
        "submit": True,
    }
    for bad in ("../t.csv", "missing.csv", "/etc/passwd"):
        with pytest.raises(client.ClientError):
            client.request_export([bad], justification="x", controls="y")


def test_refusal_is_a_client_error(
    portal: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVER_NAME", "g-2")
    with pytest.raises(client.ClientError, match="403"):
        client.grant()


def test_unreachable_portal_is_a_client_error(
    portal: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PDS_PORTAL_SOCKET", str(tmp_path / "none.sock"))
    with pytest.raises(client.ClientError, match="cannot reach"):
        client.grant()
