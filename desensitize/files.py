"""Personal data in files leaving the sandbox: tables, JSON, text, notebooks (outputs too), PDF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from desensitize.detect import detect_column_spans
from desensitize.exceptions import UnreadableFileError
from desensitize.tableio import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    read_table,
    reading,
)
from desensitize.textscan import find_entities


@dataclass(frozen=True)
class FileFinding:
    """One entity in a file: where (``column 'x', row 3``, ``line 7``, ``cell 2 output``...),
    what, and the matched text masked for the reviewer."""

    location: str
    entity: str
    excerpt: str


def mask_excerpt(text: str) -> str:
    """Show the ends of a finding, never the whole of it."""
    if len(text) <= 2:
        return text[:1] + "*"
    keep = max(1, len(text) // 4)
    return text[:keep] + "*" * (len(text) - 2 * keep) + text[-keep:]


def _in_text(text: str, location: str) -> Iterator[FileFinding]:
    for f in find_entities(text):
        yield FileFinding(location, f.entity, mask_excerpt(f.text))


def _in_table(path: Path) -> Iterator[FileFinding]:
    """Each cell as the release reads free text (:func:`desensitize.detect.detect_column_spans`)."""
    with reading(path):
        frame = read_table(path).with_columns(pl.all().cast(pl.String)).collect()
    for name in frame.columns:
        values = frame.get_column(name)
        for row, spans in enumerate(detect_column_spans(values)):
            for s in spans:
                excerpt = mask_excerpt(values[row][s.start : s.end])
                yield FileFinding(f"column {name!r}, row {row + 1}", s.entity, excerpt)


def _in_json(value: Any, where: str = "$") -> Iterator[FileFinding]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _in_json(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _in_json(item, f"{where}[{i}]")
    elif isinstance(value, str | int):
        yield from _in_text(str(value), where)


def _joined(text: str | list[str]) -> str:
    return "".join(text) if isinstance(text, list) else text


def _in_notebook(notebook: dict[str, Any]) -> Iterator[FileFinding]:
    for n, cell in enumerate(notebook.get("cells", []), start=1):
        yield from _in_text(_joined(cell.get("source", "")), f"cell {n} source")
        for output in cell.get("outputs", []):
            texts = [output.get("text", "")]
            texts += list(output.get("data", {}).values())
            for text in texts:
                if isinstance(text, str | list):
                    yield from _in_text(_joined(text), f"cell {n} output")


def _in_pdf(path: Path) -> Iterator[FileFinding]:
    from pypdf import PdfReader

    for n, page in enumerate(PdfReader(path).pages, start=1):
        yield from _in_text(page.extract_text() or "", f"page {n}")


def _lines(text: str) -> Iterator[FileFinding]:
    for n, line in enumerate(text.splitlines(), start=1):
        yield from _in_text(line, f"line {n}")


def scan_file_for_personal_data(path: Path) -> list[FileFinding]:
    """Every entity found in the file at ``path`` (for the automatic export checks)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    try:
        if suffix in CSV_SUFFIXES - {".txt"} or suffix in PARQUET_SUFFIXES | EXCEL_SUFFIXES:
            return list(_in_table(path))
        if suffix == ".pdf":
            return list(_in_pdf(path))
        text = path.read_text(encoding="utf-8")
        if suffix == ".ipynb":
            return list(_in_notebook(json.loads(text)))
        if suffix == ".json":
            return list(_in_json(json.loads(text)))
        return list(_lines(text))
    except UnreadableFileError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UnreadableFileError(f"{path}: cannot read: {exc}") from exc
    except Exception as exc:  # the PDF reader raises its own kinds
        raise UnreadableFileError(f"{path}: cannot read: {type(exc).__name__}: {exc}") from exc
