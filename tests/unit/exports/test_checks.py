"""Automatic output checks: personal data in every format, disclosure rules, pseudonyms, types."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import nbformat
import polars as pl
import pytest

from desensitize import pseudonymize
from desensitize.synthetic import DISTRICTS, ROADS
from open_portal.checks import Limits, run_checks
from open_portal.checks.pseudonyms import grant_pseudonyms

LIMITS = Limits()
MOBILE = "13812345678"


def failing(name: str, data: bytes, **kw: object) -> dict[str, dict[str, object]]:
    _, results = run_checks(name, data, limits=LIMITS, **kw)  # type: ignore[arg-type]
    return {r.check: r.details for r in results if not r.passed}


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF whose text layer says ``text`` (ASCII), with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def notebook(output_text: str, source: str = "df.head()") -> bytes:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": output_text}, execution_count=1
        )
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# 分析"), cell]
    return nbformat.writes(nb).encode()


def parquet(frame: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.write_parquet(out)
    return out.getvalue()


PERSONAL_FILES = [
    ("people.csv", f"姓名,手机\n张伟,{MOBILE}\n".encode()),
    ("people.json", json.dumps({"rows": [{"phone": MOBILE}]}).encode()),
    ("notes.txt", f"回访电话 {MOBILE}".encode()),
    ("notes.md", f"# 附录\n联系 {MOBILE}".encode()),
    ("analysis.ipynb", notebook(f"   phone\n0  {MOBILE}")),  # in an output, not the source
    ("report.pdf", minimal_pdf(f"Contact {MOBILE} for details")),
    ("rows.parquet", parquet(pl.DataFrame({"phone": [MOBILE]}))),
    ("page.html", f"<table><tr><td>{MOBILE}</td></tr></table>".encode()),
]


@pytest.mark.parametrize(("name", "data"), PERSONAL_FILES, ids=[n for n, _ in PERSONAL_FILES])
def test_personal_data_is_found_in_every_format(name: str, data: bytes) -> None:
    found = failing(name, data)
    assert "personal_data" in found
    mobiles = found["personal_data"]["entities"]["CN_MOBILE"]  # type: ignore[index]
    # the raw bytes of a Parquet file repeat a value in its statistics: each copy is counted
    assert mobiles >= 1 if name.endswith(".parquet") else mobiles == 1
    assert MOBILE not in json.dumps(found["personal_data"], ensure_ascii=False)  # masked


CLEAN_FILES = [
    ("table.csv", "区,人数\n西湖区,120\n上城区,95\n".encode()),
    (
        "districts.csv",
        (
            "区,街道,人数\n"
            + "".join(
                f"{d[2]},{r},{i + 20}\n"
                for i, (d, r) in enumerate(zip(DISTRICTS, ROADS * 2, strict=False))
            )
            + "上城区,市心路,27\n"
        ).encode(),
    ),
    ("summary.json", json.dumps({"mean_age": 41.2, "rows": 1200}).encode()),
    ("analysis.ipynb", notebook("count    1200\nmean       41.2")),
    ("report.pdf", minimal_pdf("Mean waiting time fell by 12 percent")),
    ("figure.png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
    ("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(64)),
    ("figure.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><rect width='1' height='1'/></svg>"),
]


@pytest.mark.parametrize(("name", "data"), CLEAN_FILES, ids=[n for n, _ in CLEAN_FILES])
def test_clean_files_pass(name: str, data: bytes) -> None:
    assert failing(name, data) == {}


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("tool.exe", b"MZ\x90\x00"),
        ("rows.parquet", parquet(pl.DataFrame({"x": [1]}))),  # scanned, but may not leave
        ("archive.zip", b"PK\x03\x04"),
        ("noext", b"hello"),
        ("fake.png", b"GIF89a"),  # content is not what the name says
        ("fake.pdf", b"hello"),
        ("fake.ipynb", b'{"not": "a notebook"}'),
        ("binary.txt", b"\x00\x01\x02"),
    ],
)
def test_file_types(name: str, data: bytes) -> None:
    assert "file_type" in failing(name, data)


def test_size_limit() -> None:
    _, results = run_checks("a.txt", b"x" * 11, limits=Limits(max_file_bytes=10))
    assert [r.check for r in results if not r.passed] == ["size"]


# ---- statistical disclosure control ------------------------------------------------------


def test_small_cells_are_flagged() -> None:
    found = failing("t.csv", "区,人数\n西湖区,120\n上城区,7\n滨江区,0\n".encode())
    assert found["disclosure.min_cell_count"]["cells"] == ["上城区 · 人数"]  # zeros are structural


def test_cross_tab_cells_are_counts() -> None:
    table = "region,male,female\nNorth,25,9\nSouth,30,31\n"
    assert failing("t.csv", table.encode())["disclosure.min_cell_count"]["cells"] == [
        "North · female"
    ]


def test_threshold_follows_the_grant_rules() -> None:
    table = "区,人数\n西湖区,12\n".encode()
    _, results = run_checks("t.csv", table, limits=Limits(min_cell_count=20))
    assert [r.check for r in results if not r.passed] == ["disclosure.min_cell_count"]
    assert failing("t.csv", table) == {}


def test_totals_that_reveal_a_suppressed_cell() -> None:
    row_total = "region,A,B,Total\nNorth,12,*,40\nSouth,30,15,45\n"
    assert failing("t.csv", row_total.encode())["disclosure.totals"]["cells"] == ["North · B"]
    column_total = "region,A,B\nNorth,12,*\nSouth,30,15\nTotal,42,43\n"
    assert failing("t.csv", column_total.encode())["disclosure.totals"]["cells"] == ["North · B"]
    two_hidden = "region,A,B,Total\nNorth,*,*,40\nSouth,30,15,45\n"
    assert "disclosure.totals" not in failing("t.csv", two_hidden.encode())
    no_total = "region,A,B\nNorth,12,*\nSouth,30,15\n"
    assert "disclosure.totals" not in failing("t.csv", no_total.encode())


def contributions(values_by_cell: dict[str, list[float]]) -> bytes:
    rows = [f"{cell},{v}" for cell, values in values_by_cell.items() for v in values]
    return ("industry,turnover\n" + "\n".join(rows) + "\n").encode()


def test_p_percent_rule() -> None:
    # total - top1 - top2 = 9 < 10% of 100: the second largest learns the largest within 10%
    found = failing("t.csv", contributions({"A": [100, 50] + [1] * 9, "B": [10.0] * 12}))
    assert found["disclosure.p_percent"]["cells"] == ["A · turnover"]
    assert "disclosure.min_cell_count" not in found
    # with p = 10% and n = 2, k = 90%, a p% failure is always an nk failure too:
    # rest < top1 / 10 implies rest < (top1 + top2) / 9
    assert found["disclosure.nk_dominance"]["cells"] == ["A · turnover"]


def test_nk_dominance_rule() -> None:
    # the two largest hold 94% of the cell; the rest (60) is above 10% of the largest (50)
    found = failing("t.csv", contributions({"A": [500, 450] + [6] * 10, "B": [10.0] * 12}))
    assert found["disclosure.nk_dominance"]["cells"] == ["A · turnover"]
    assert "disclosure.p_percent" not in found
    # 90% exactly is allowed; above it is not
    exact = failing("t.csv", contributions({"A": [500, 400] + [10] * 10}))
    assert "disclosure.nk_dominance" not in exact


def test_cells_with_too_few_contributors() -> None:
    found = failing("t.csv", contributions({"A": [10.0] * 9, "B": [10.0] * 10}))
    assert found["disclosure.min_cell_count"]["cells"] == ["A (n=9)"]


def test_aggregates_without_contributions_are_noted() -> None:
    _, results = run_checks("t.csv", b"industry,mean_turnover\nA,10.5\nB,11.25\n", limits=LIMITS)
    note = next(r for r in results if r.check == "disclosure.dominance")
    assert note.passed and note.details["columns"] == ["mean_turnover"]


# ---- pseudonyms of the grant -------------------------------------------------------------


def test_pseudonyms_of_the_grant_are_found(tmp_path: Path) -> None:
    key = bytes(range(32))
    people = [f"3301061990010{i:05d}" for i in range(30)]
    pseudonyms = [pseudonymize(p, key) for p in people]
    pl.DataFrame(
        {
            "caller": pseudonyms + pseudonyms[:5],  # repeated: one person, several tickets
            "district": ["西湖区", "上城区", "滨江区", "拱墅区", "余杭区"] * 7,
            "ticket": [f"{i:024x}" if i else "T-1" for i in range(35)],  # not all of that shape
        }
    ).write_parquet(tmp_path / "tickets.parquet")
    known = grant_pseudonyms(tmp_path)
    assert known == set(pseudonyms)
    leaked = f"caller,score\n{pseudonyms[3]},1\n{pseudonyms[7]},2\n".encode()
    found = failing("leak.csv", leaked, pseudonyms=known)
    assert found["pseudonyms"]["count"] == 2
    notebook_leak = notebook(f"'{pseudonyms[1]}'")
    assert failing("a.ipynb", notebook_leak, pseudonyms=known)["pseudonyms"]["count"] == 1
    other_grant = pseudonymize(people[0], bytes(32))
    assert "pseudonyms" not in failing("ok.txt", other_grant.encode(), pseudonyms=known)
    assert grant_pseudonyms(tmp_path / "missing") == set()


def test_nk_dominance_with_another_n() -> None:
    limits = Limits(nk_n=3, nk_k=95.0)
    _, ok = run_checks("t.csv", contributions({"A": [500, 300, 150] + [5] * 10}), limits=limits)
    assert next(r for r in ok if r.check == "disclosure.nk_dominance").passed  # exactly 95%
    _, bad = run_checks("t.csv", contributions({"A": [500, 300, 160] + [4] * 10}), limits=limits)
    assert not next(r for r in bad if r.check == "disclosure.nk_dominance").passed


def test_many_failing_cells_are_counted_and_some_listed() -> None:
    table = "区,人数\n" + "".join(f"区{i},{i % 9 + 1}\n" for i in range(30))
    found = failing("t.csv", table.encode())["disclosure.min_cell_count"]
    assert found["failing"] == 30 and len(found["cells"]) == 20  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "shown",
    [
        lambda p: p.upper(),  # another letter case
        lambda p: p[:12],  # cut to the shortest prefix that still names a record
        lambda p: p[:16].upper() + "…",
        lambda p: "ID" + p + "ff00",  # run together with other hex digits
        lambda p: p[:12] + p[:12].upper(),
    ],
)
def test_pseudonyms_are_found_in_any_case_and_cut_short(shown: Callable[[str], str]) -> None:
    key = bytes(range(32))
    known = {pseudonymize(f"33010619900101{i:04d}", key) for i in range(30)}
    text = "caller\n" + "\n".join(shown(p) for p in sorted(known)) + "\n"
    assert failing("t.csv", text.encode(), pseudonyms=known)["pseudonyms"]["count"] == 30


def test_a_shorter_prefix_or_another_grant_is_not_flagged() -> None:
    key = bytes(range(32))
    known = {pseudonymize(f"33010619900101{i:04d}", key) for i in range(30)}
    short = "\n".join(p[:11] for p in sorted(known))
    other = "\n".join(pseudonymize(f"33010619900101{i:04d}", bytes(32)) for i in range(30))
    assert "pseudonyms" not in failing("t.txt", f"{short}\n{other}\n".encode(), pseudonyms=known)


def test_pseudonyms_in_the_free_text_of_the_release_are_known(tmp_path: Path) -> None:
    key = bytes(range(32))
    caller = pseudonymize("13812345678", key)
    pl.DataFrame(
        {"content": [f"市民<PHONE:{caller}>来电反映噪音", "无"], "n": [1, 2]}
    ).write_parquet(tmp_path / "tickets.parquet")
    assert grant_pseudonyms(tmp_path) == {caller}
    assert failing("t.txt", caller[:13].upper().encode(), pseudonyms={caller})["pseudonyms"]
