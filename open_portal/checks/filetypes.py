"""Allowed file types (by name and by content) and the size limit."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from open_portal.checks import CheckResult

# extension -> kind. What may leave a workspace: tables, figures, reports, notebooks.
ALLOWED = {
    ".csv": "csv",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".svg": "svg",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".txt": "text",
    ".json": "json",
    ".md": "markdown",
    ".ipynb": "notebook",
}
# Scanned for personal data even though they may not leave: the check says so.
SCANNED_ONLY = {".parquet": "parquet"}
TEXT_KINDS = {"csv", "svg", "html", "text", "json", "markdown", "notebook"}


def _content_matches(kind: str, data: bytes) -> bool:
    if kind == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "jpeg":
        return data.startswith(b"\xff\xd8\xff")
    if kind == "pdf":
        return data.startswith(b"%PDF-")
    if kind == "parquet":
        return data.startswith(b"PAR1") and data.endswith(b"PAR1")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if "\x00" in text:
        return False
    if kind == "svg":
        return "<svg" in text[:4096].lower()
    if kind in ("json", "notebook"):
        try:
            value = json.loads(text)
        except ValueError:
            return False
        return kind == "json" or (isinstance(value, dict) and "cells" in value)
    return True


def kind_of(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return ALLOWED.get(suffix) or SCANNED_ONLY.get(suffix) or "other"


def check(name: str, data: bytes, *, max_bytes: int) -> tuple[str, list[CheckResult]]:
    """The kind of the file, and the type and size checks."""
    kind = kind_of(name)
    suffix = PurePosixPath(name).suffix.lower()
    results = []
    if suffix not in ALLOWED:
        results.append(
            CheckResult(
                "file_type",
                False,
                f"{suffix or 'files without an extension'} may not be exported; "
                f"allowed: {', '.join(sorted(ALLOWED))}",
                f"不允许导出 {suffix or '无扩展名'} 文件；允许：{'、'.join(sorted(ALLOWED))}",
                {"kind": kind},
            )
        )
    elif not _content_matches(kind, data):
        results.append(
            CheckResult(
                "file_type",
                False,
                f"the content is not a {kind} file",
                f"文件内容与类型 {kind} 不符",
                {"kind": kind},
            )
        )
    else:
        results.append(CheckResult("file_type", True, f"{kind} file", f"{kind} 文件", {}))
    size_ok = len(data) <= max_bytes
    results.append(
        CheckResult(
            "size",
            size_ok,
            f"{len(data)} bytes (limit {max_bytes})",
            f"{len(data)} 字节（上限 {max_bytes}）",
            {"bytes": len(data), "limit": max_bytes},
        )
    )
    return kind, results
