"""Personal data in files leaving the sandbox: every supported kind, with masked excerpts."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from desensitize import scan_file_for_personal_data
from desensitize.exceptions import UnreadableFileError

ID = "11010519491231002X"
PHONE = "13812345678"


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII) in Helvetica."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _entities(path: Path) -> set[str]:
    return {f.entity for f in scan_file_for_personal_data(path)}


def test_text_and_markdown(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text(f"# 结果\n\n市民王小明，身份证{ID}\n无\n电话{PHONE}\n", encoding="utf-8")
    findings = scan_file_for_personal_data(path)
    assert {(f.location, f.entity) for f in findings} == {
        ("line 3", "PERSON"),
        ("line 3", "CN_ID_CARD"),
        ("line 5", "CN_MOBILE"),
    }
    assert all(ID not in f.excerpt and PHONE not in f.excerpt for f in findings)
    assert "*" in findings[1].excerpt


def test_csv_and_parquet(tmp_path: Path) -> None:
    frame = pl.DataFrame({"n": ["1", "2"], "x": ["none", f"call {PHONE}"]})
    frame.write_csv(tmp_path / "t.csv")
    frame.write_parquet(tmp_path / "t.parquet")
    for name in ("t.csv", "t.parquet"):
        findings = scan_file_for_personal_data(tmp_path / name)
        assert [(f.location, f.entity) for f in findings] == [("column 'x', row 2", "CN_MOBILE")]


def test_json(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    path.write_text(json.dumps({"rows": [{"id": ID}, {"ok": 3}]}), encoding="utf-8")
    findings = scan_file_for_personal_data(path)
    assert [(f.location, f.entity) for f in findings] == [("$.rows[0].id", "CN_ID_CARD")]


def test_notebook_outputs_are_scanned(tmp_path: Path) -> None:
    notebook = {
        "cells": [
            {"cell_type": "code", "source": ["df.head()"], "outputs": []},
            {
                "cell_type": "code",
                "source": "print(x)",
                "outputs": [
                    {"output_type": "stream", "text": [f"{PHONE}\n"]},
                    {"output_type": "execute_result", "data": {"text/plain": f"id {ID}"}},
                ],
            },
        ]
    }
    path = tmp_path / "analysis.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    findings = scan_file_for_personal_data(path)
    assert {(f.location, f.entity) for f in findings} == {
        ("cell 2 output", "CN_MOBILE"),
        ("cell 2 output", "CN_ID_CARD"),
    }


def test_pdf_text(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(_minimal_pdf(f"Contact {PHONE} or a.b@example.com"))
    assert _entities(path) == {"CN_MOBILE", "EMAIL_ADDRESS"}


def test_clean_file(tmp_path: Path) -> None:
    path = tmp_path / "summary.txt"
    path.write_text("平均年龄 42.5，样本 1200 人，订单号207167928093392155\n", encoding="utf-8")
    assert scan_file_for_personal_data(path) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [("bad.json", b"{not json"), ("bad.txt", b"\xff\xfe\xfa"), ("bad.pdf", b"%PDF-1.4 junk")],
)
def test_unreadable_files_are_named(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=name.replace(".", r"\.")):
        scan_file_for_personal_data(path)
