"""Free text found once per dataset version: the first pass over a version against a grant's release
from the kept spans, on the same synthetic table.

- the first pass: texts per second of the detector (``detect.detect_text_spans``) over the notes;
- a grant's release (CSV in, Parquet and report out) from the kept spans, and the same release
  redacting its free text anew with the vectorised rules, in rows per second;
- the texts the detector examines during a second grant's release (must be 0).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from bench.measure import Measure
from desensitize import synthetic
from desensitize.detect import texts_examined
from desensitize.pipeline import desensitize_table
from desensitize.policy import Policy
from desensitize.spancache import detect_table_spans, spans_from_bytes, spans_to_bytes

ROWS = 20_000
KEY = bytes(range(32))
POLICY = Policy.from_yaml(
    """
columns:
  name: {action: pseudonymize}
  id_number: {action: pseudonymize}
  mobile: {action: pseudonymize}
  address: {action: generalize, address_to: district}
  note: {action: redact}
"""
)


def _seconds(function: Callable[..., object], *args: object, **kwargs: object) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - started


def run() -> list[Measure]:
    rng = random.Random(31)
    frame = pl.DataFrame([synthetic.fake_person_row(rng) for _ in range(ROWS)]).select(
        "name", "id_number", "mobile", "address", "amount", "note"
    )
    with tempfile.TemporaryDirectory(prefix="pds-bench-") as tmp:
        workdir = Path(tmp)
        source = workdir / "t.csv"
        frame.write_csv(source)
        started = time.perf_counter()
        kept = spans_from_bytes(spans_to_bytes(detect_table_spans(source, ["note"])))
        first_pass = time.perf_counter() - started
        cached = min(
            _seconds(
                desensitize_table,
                source,
                workdir / f"g{i}.parquet",
                policy=POLICY,
                key=bytes([i]) * 32,
                text_spans=kept,
            )
            for i in range(3)
        )
        before = texts_examined()
        desensitize_table(
            source, workdir / "again.parquet", policy=POLICY, key=b"x" * 32, text_spans=kept
        )
        examined = texts_examined() - before
        anew = min(
            _seconds(desensitize_table, source, workdir / f"n{i}.parquet", policy=POLICY, key=KEY)
            for i in range(3)
        )
    detail = f"{ROWS} rows, {kept.height} spans"
    return [
        Measure(
            "first pass over a version (detector), notes/s",
            ROWS / first_pass,
            "notes/s",
            detail=detail,
        ),
        Measure("grant release from kept spans, rows/s", ROWS / cached, "rows/s"),
        Measure("grant release redacting anew (vectorised rules), rows/s", ROWS / anew, "rows/s"),
        Measure(
            "texts examined by the detector for a second grant",
            examined,
            "texts",
            floor=0,
            at_most=True,
        ),
    ]
