"""The text of a file for the personal-data and pseudonym scans: cells, strings, notebook
sources and outputs, the text layer of PDFs."""

from __future__ import annotations

import io
import json
from typing import Any

NOTEBOOK_TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def _strings(value: Any) -> list[str]:
    """Every key and scalar of a JSON value, as text."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [] if value is None else [str(value)]


def _joined(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def notebook_text(data: bytes) -> str:
    """Sources and every textual output of a notebook (images are left out)."""
    import nbformat

    notebook = nbformat.reads(data.decode("utf-8-sig"), as_version=nbformat.NO_CONVERT)
    parts: list[str] = []
    for cell in notebook.get("cells", []):
        parts.append(_joined(cell.get("source")))
        for output in cell.get("outputs", []) or []:
            if "text" in output:
                parts.append(_joined(output["text"]))
            if "traceback" in output:
                parts.append("\n".join(output["traceback"]))
            bundle = output.get("data") or {}
            for media_type in NOTEBOOK_TEXT_TYPES:
                if media_type in bundle:
                    item = bundle[media_type]
                    parts.append(
                        json.dumps(item, ensure_ascii=False)
                        if media_type == "application/json"
                        else _joined(item)
                    )
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def parquet_text(data: bytes) -> str:
    import polars as pl

    return pl.read_parquet(io.BytesIO(data)).write_csv()


def extract_text(kind: str, data: bytes) -> str:
    """The text to scan; empty for images and for content that does not parse as its kind."""
    try:
        if kind == "notebook":
            return notebook_text(data)
        if kind == "pdf":
            return pdf_text(data)
        if kind == "parquet":
            return parquet_text(data)
        if kind == "json":
            return "\n".join(_strings(json.loads(data.decode("utf-8-sig"))))
        if kind in ("png", "jpeg"):
            return ""
        return data.decode("utf-8-sig", errors="replace")
    except Exception:  # a file that claims a kind it is not: scan its bytes as text
        return data.decode("utf-8", errors="replace")
