"""Column scan on the shipped sample (CSV, Parquet) and on tables it has never seen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from desensitize import TableScan, scan_table
from desensitize.exceptions import UnreadableFileError

EXPECTED = {
    "name": "PERSON",
    "id_number": "CN_ID_CARD",
    "mobile": "CN_MOBILE",
    "bank_card": "CN_BANK_CARD",
    "email": "EMAIL_ADDRESS",
    "plate": "CN_LICENSE_PLATE",
    "address": "ADDRESS",
    "gender": None,
    "birth_date": None,
    "age": None,
    "district": None,
    "order_no": None,  # look-alikes
    "amount": None,
    "bad_id": None,
}


def _entities(scan: TableScan) -> dict[str, str | None]:
    return {c.name: c.entity for c in scan.columns}


def test_sample_csv(people_csv: Path) -> None:
    scan = scan_table(people_csv)
    entities = _entities(scan)
    assert {k: entities[k] for k in EXPECTED} == EXPECTED
    note = scan.column("note")
    assert note is not None and note.free_text and note.entity is not None
    assert {"PERSON", "CN_MOBILE", "ADDRESS"} <= set(note.inside)
    assert all(c.share == 1.0 for c in scan.columns if c.entity and not c.free_text)


def test_parquet_gives_the_same_findings(people_csv: Path, people_parquet: Path) -> None:
    assert _entities(scan_table(people_parquet)) == _entities(scan_table(people_csv))


def test_unseen_table_with_typed_columns(
    tmp_path: Path, make_people: Callable[[int, int], pl.DataFrame]
) -> None:
    frame = make_people(300, 99).with_columns(pl.col("age").cast(pl.Int64))
    path = tmp_path / "unseen.parquet"
    frame.write_parquet(path)
    scan = scan_table(path, sample_rows=100)
    assert scan.sampled_rows == 100
    assert {k: v for k, v in _entities(scan).items() if k in EXPECTED} == EXPECTED
    age = scan.column("age")
    assert age is not None and age.shape == "number"


def test_json_round_trip(people_csv: Path) -> None:
    scan = scan_table(people_csv)
    data = scan.to_json()
    assert {"name", "entity", "score"} <= set(data["columns"][0])
    assert TableScan.from_json(data) == scan


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("table.docx", b"x", "unknown table type"),
        ("broken.parquet", b"PAR1 not really", "cannot read"),
        ("empty.csv", b"", "cannot read"),
    ],
)
def test_unreadable_files_are_named(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=message) as error:
        scan_table(path)
    assert name in str(error.value)


def _minimal_xlsx(path: Path, rows: list[list[str]]) -> None:
    """Write ``rows`` (the first is the header) as a one-sheet workbook of inline strings."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(ref: str, value: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'

    sheet_rows = "".join(
        f'<row r="{i}">'
        + "".join(cell(f"{chr(65 + j)}{i}", v) for j, v in enumerate(row))
        + "</row>"
        for i, row in enumerate(rows, start=1)
    )
    ns = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": (
            f'<Types xmlns="{ns}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" '
            f'xmlns:r="{ns}/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData>{sheet_rows}'
            "</sheetData></worksheet>"
        ),
    }
    with zipfile.ZipFile(path, "w") as book:
        for name, text in files.items():
            book.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)


def test_excel_workbook(tmp_path: Path, people_csv: Path) -> None:
    source = pl.read_csv(people_csv, infer_schema=False).select("name", "id_number", "order_no")
    path = tmp_path / "people.xlsx"
    _minimal_xlsx(path, [source.columns, *[list(r) for r in source.rows()]])
    assert _entities(scan_table(path)) == {
        "name": "PERSON",
        "id_number": "CN_ID_CARD",
        "order_no": None,
    }


def test_a_column_of_fixed_line_numbers_is_found_and_pseudonymized(tmp_path: Path) -> None:
    import random

    from desensitize import default_policy, synthetic

    rng = random.Random(5)
    frame = pl.DataFrame(
        {
            "tel": [synthetic.landline(rng) for _ in range(60)],
            "order_no": [synthetic.order_number(rng) for _ in range(60)],
        }
    )
    path = tmp_path / "phones.csv"
    frame.write_csv(path)
    scan = scan_table(path)
    assert _entities(scan) == {"tel": "PHONE_NUMBER", "order_no": None}
    assert default_policy(scan).rule("tel").action.value == "pseudonymize"
