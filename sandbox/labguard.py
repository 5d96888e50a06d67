"""JupyterLab's file serving inside a workspace: for viewing and editing, not for downloading.

Runs in the workspace's own server (``--ServerApp.contents_manager_class``), so it is friction,
not a boundary: what a member's code prints still reaches their browser, and the server runs as
the member. What it removes is the one-click path around export review: ``/files/`` (downloads,
``/view/``) answers 403, and the contents API returns the content only of notebooks, of small
text files (code, notes) and of small images (plots). Data files, large files and any other
binary are listed but not served; they leave only through an export request. See ADR 0004.
"""

from __future__ import annotations

import os
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import default

TEXT_LIMIT = 64 * 1024
IMAGE_LIMIT = 2 * 1024 * 1024
TEXT_SUFFIXES = frozenset(
    {".py", ".md", ".txt", ".r", ".sql", ".sh", ".toml", ".yaml", ".yml", ".cfg", ".ini", ".log"}
)
# an image's first and last bytes: a file renamed to .png is not served as one
IMAGE_BOUNDS = {
    ".png": (b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"),
    ".jpg": (b"\xff\xd8\xff", b"\xff\xd9"),
    ".jpeg": (b"\xff\xd8\xff", b"\xff\xd9"),
    ".gif": (b"GIF8", b"\x3b"),
}
REFUSAL = (
    "Files are viewed and used inside the workspace; they leave only through an export request "
    "in the portal. 文件只能在工作空间内查看和使用，须通过门户的导出申请才能带出。"
)


class RefusedDownload(JupyterHandler):
    """``/files/…``: every method refused, whatever the path."""

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        raise web.HTTPError(403, REFUSAL)

    get = head = post = put = patch = delete = _refuse


def servable(path: str, format: str | None) -> bool:
    """Whether a (non-notebook) file's content may be sent to the browser: a small image that
    starts and ends as one, or a small UTF-8 text file of a kind written by hand, as text."""
    suffix = os.path.splitext(path)[1].lower()
    size = os.path.getsize(path)
    if suffix in IMAGE_BOUNDS:
        if size > IMAGE_LIMIT:
            return False
        head, tail = IMAGE_BOUNDS[suffix]
        with open(path, "rb") as f:
            data = f.read()
        return data.startswith(head) and data.endswith(tail)
    if suffix not in TEXT_SUFFIXES or size > TEXT_LIMIT or format == "base64":
        return False
    with open(path, "rb") as f:
        try:
            f.read().decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


class GuardedContentsManager(AsyncLargeFileManager):
    """The default contents manager, minus raw downloads and the content of data files."""

    @default("files_handler_class")
    def _files_handler_class_default(self) -> type:
        return RefusedDownload

    @default("files_handler_params")
    def _files_handler_params_default(self) -> dict[str, Any]:
        return {}

    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        if content and type != "directory":
            os_path = self._get_os_path(path.strip("/"))
            notebook = type == "notebook" or (type is None and path.endswith(".ipynb"))
            if os.path.isfile(os_path) and not notebook and not servable(os_path, format):
                raise web.HTTPError(403, REFUSAL)
        model: dict[str, Any] = await super().get(
            path, content=content, type=type, format=format, require_hash=require_hash
        )
        return model
