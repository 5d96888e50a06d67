"""The client used inside a workspace: the grant's datasets, DP queries, exports, budget.

Standard library and polars only; it talks to the portal through the Unix socket bridged into
the workspace (``$PDS_PORTAL_SOCKET``; on Kubernetes ``$PDS_PORTAL_URL``), authenticated with the
workspace credential ``$PDS_WORKSPACE_TOKEN``: the portal accepts it only on this grant's
workspace API (its datasets, DP queries, export requests, budget) and nowhere else.
Nothing it sends is trusted by the portal: export requests name files in ``~/outbox``, which
the portal copies and checks itself.

    from sandbox import client
    client.datasets()
    frame = client.load("births-2024")          # a polars LazyFrame (datasets granted at L2)
    client.dp_query({"dataset": "births-2024", "kind": "count", "epsilon": 0.5})
    client.dp_preview({"dataset": "births-2024", "kind": "count", "ci95": 10})  # spends nothing
    client.request_export(
        ["table.csv"],
        justification="Figure 2 of the report: births by district",
        controls="cells below 10 suppressed, counts rounded to 5",
    )
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

from sandbox.exceptions import Error

if TYPE_CHECKING:
    import polars as pl

DEFAULT_SOCKET = "/run/pds/portal.sock"
DEFAULT_RELEASE = "/data/release"
API_PREFIX = "/services/portal/api/workspace/grants"
SCANNERS = {
    ".parquet": "scan_parquet",
    ".csv": "scan_csv",
    ".arrow": "scan_ipc",
    ".ipc": "scan_ipc",
    ".feather": "scan_ipc",
    ".ndjson": "scan_ndjson",
    ".jsonl": "scan_ndjson",
}


MAX_TEXT = 4000  # the portal's limit on a justification or a description of controls


class ClientError(Error):
    """The portal refused a request, or the workspace cannot do what was asked."""


class ExportNotSubmitted(ClientError):
    """The export request was saved but not submitted: the portal's automatic checks need an
    answer first. ``missing`` says what, ``url`` is the request's page where to finish it."""

    def __init__(self, request_id: str, url: str, missing: list[dict[str, str]]) -> None:
        self.request_id, self.url, self.missing = request_id, url, missing
        todo = "\n".join(f"  - {m.get('zh', '')} / {m.get('en', '')}" for m in missing)
        super().__init__(
            f"导出申请 #{request_id} 已保存，但尚未提交审核 / export request #{request_id} is "
            f"saved but not submitted for review:\n{todo}\n"
            f"请在门户完成并提交 / finish and submit it in the portal: {url}"
        )


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("portal", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def grant_id() -> str:
    """The grant of this workspace (the server's name)."""
    value = os.environ.get("PDS_GRANT_ID") or os.environ.get("JUPYTERHUB_SERVER_NAME")
    if not value:
        raise ClientError("not inside a grant workspace (no JUPYTERHUB_SERVER_NAME)")
    return value


def _connection() -> tuple[http.client.HTTPConnection, str]:
    """The portal connection: ``$PDS_PORTAL_URL`` (Kubernetes) or the bridged Unix socket."""
    timeout = float(os.environ.get("PDS_CLIENT_TIMEOUT", 60))
    url = os.environ.get("PDS_PORTAL_URL")
    if url:
        parsed = urlparse(url)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ClientError(f"PDS_PORTAL_URL must be http://host:port, not {url!r}")
        return http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=timeout), url
    sock_path = os.environ.get("PDS_PORTAL_SOCKET", DEFAULT_SOCKET)
    return _UnixHTTPConnection(sock_path, timeout=timeout), sock_path


def _request(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    conn, where = _connection()
    headers = {
        "Authorization": f"workspace {os.environ.get('PDS_WORKSPACE_TOKEN', '')}",
        "Accept": "application/json",
        # the portal answers errors in the member's language (set by the spawner)
        "Accept-Language": os.environ.get("PDS_LANG", "zh"),
        "X-PDS-Grant": grant_id(),
    }
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    url = f"{API_PREFIX}/{quote(grant_id(), safe='')}{path}"
    try:
        conn.request(method, url, body=payload, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", errors="replace")
    except OSError as e:
        raise ClientError(f"cannot reach the portal through {where}: {e}") from e
    finally:
        conn.close()
    if response.status >= 400:
        try:
            answer = json.loads(text)
            detail = answer.get("error") or answer.get("detail") or text
        except (ValueError, AttributeError):
            detail = text
        raise ClientError(f"portal answered {response.status}: {detail}")
    return json.loads(text) if text else None


def grant() -> dict[str, Any]:
    """The grant as the portal sees it: level, end, datasets, budget."""
    return dict(_request("GET", ""))


def datasets() -> list[dict[str, Any]]:
    """The grant's datasets: ``[{"id", "title", "level", "file"}]``; ``file`` is None for a
    dataset granted at L3 (differentially private answers only)."""
    return list(grant().get("datasets", []))


def budget() -> dict[str, float]:
    """The privacy budget: ``{"total", "spent", "remaining"}``."""
    return dict(grant()["budget"])


def budget_history() -> dict[str, Any]:
    """The budget and every charge to it in order (ε, spent after, who, when)."""
    return dict(_request("GET", "/budget"))


def remaining_budget() -> float:
    """The privacy budget left (epsilon)."""
    return float(budget()["remaining"])


def ends_at() -> datetime:
    """When the grant ends; the workspace is destroyed then."""
    return datetime.fromisoformat(str(grant()["ends_at"]))


def release_dir() -> Path:
    """The read-only directory of the grant's desensitized release."""
    return Path(os.environ.get("PDS_RELEASE_DIR", DEFAULT_RELEASE))


def load(dataset_id: str) -> pl.LazyFrame:
    """A dataset of the grant's release as a polars LazyFrame (datasets granted at L2 only)."""
    import polars as pl

    entry = next((d for d in datasets() if d.get("id") == dataset_id), None)
    if entry is None:
        raise ClientError(f"dataset {dataset_id!r} is not in this grant")
    if entry.get("level") == "L3" or not entry.get("file"):
        raise ClientError(
            f"数据集 {dataset_id} 按 L3 级授权，没有记录级数据：请用 sandbox.dp / client.dp_query() / "
            f"dataset {dataset_id!r} is granted at L3 and has no record-level data: "
            "use sandbox.dp or client.dp_query()"
        )
    root = release_dir().resolve()
    path = (root / str(entry["file"])).resolve()
    if root not in path.parents or not path.is_file():
        raise ClientError(f"dataset {dataset_id!r} has no file in the release")
    scanner = SCANNERS.get(path.suffix.lower())
    if scanner is None:
        raise ClientError(f"cannot read {path.suffix} files")
    frame: pl.LazyFrame = getattr(pl, scanner)(path)
    return frame


def dp_query(query: dict[str, Any]) -> dict[str, Any]:
    """Run a differentially private query on the portal; spends budget."""
    return dict(_request("POST", "/dp", query))


def dp_preview(query: dict[str, Any]) -> dict[str, Any]:
    """The 95% accuracy of a DP query at its ε, or (with ``"ci95"``) the least ε that gives it;
    from the declared bounds only: reads no data and spends nothing."""
    return dict(_request("POST", "/dp/preview", query))


def outbox() -> Path:
    """The directory whose files may be proposed for export (created if missing)."""
    path = Path.home() / "outbox"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def request_export(
    files: list[str], justification: str = "", controls: str = "", *, submit: bool = True
) -> str:
    """Ask for files of ``outbox()`` to be exported, and submit the request for review.

    ``justification`` says what the files are and why they are needed; ``controls`` which
    disclosure controls were applied (suppression of small cells, rounding, ...). Both are
    required, as on the portal's form: when one is missing nothing is sent and the error says
    what to add. Returns the request's id once it is submitted. When an automatic check fails
    (small cells, personal data, ...) the request is saved but not submitted:
    ``ExportNotSubmitted`` says which checks and gives the address of the request's page, where
    you answer them and submit. ``submit=False`` only saves the request.
    """
    problems = []
    box = outbox().resolve()
    if not files:
        problems.append("请列出 outbox/ 中要导出的文件 / name the files of outbox/ to export")
    for name in files:
        path = (box / name).resolve()
        if box not in path.parents or not path.is_file():
            problems.append(f"{name!r} 不是 outbox/ 中的文件 / {name!r} is not a file in outbox/")
    for field, text, zh, en in (
        (
            "justification",
            justification,
            "背景说明：文件是什么、为何需要",
            "what the files are and why they are needed",
        ),
        (
            "controls",
            controls,
            "已采取的披露控制措施（小单元格抑制、取整等）",
            "the disclosure controls applied (suppression of small cells, rounding, ...)",
        ),
    ):
        if not text.strip():
            problems.append(f"请填写 {field}：{zh} / {field} is required: {en}")
        elif len(text.strip()) > MAX_TEXT:
            problems.append(
                f"{field} 超过 {MAX_TEXT} 字 / {field} is longer than {MAX_TEXT} characters"
            )
    if problems:
        raise ClientError(
            "导出申请未发送 / the export request was not sent:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    body: dict[str, Any] = {
        "files": files,
        "justification": justification,
        "controls": controls,
        "submit": submit,
    }
    answer = _request("POST", "/exports", body)
    request_id = str(answer["id"])
    if submit and answer.get("status") != "submitted":
        raise ExportNotSubmitted(request_id, str(answer.get("url", "")), answer.get("missing", []))
    return request_id
