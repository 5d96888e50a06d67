"""Desensitization engine against Presidio, on the same synthetic data, in the same run.

- tables: rows per second of ``desensitize_frame`` (a DataFrame in, a DataFrame out, as
  presidio-structured works) against presidio-structured analysing every row (floor 100×) and
  against its fastest use, columns typed from a 500-row sample (floor 5×); ``desensitize_table``
  (CSV file in, Parquet file and release report out) is measured beside them;
  recall on check-digit identifiers and phone numbers (floor 0.99); look-alikes left intact;
  the table has no free text (the name model reads only free-text columns; a table with notes is
  measured beside it);
- names in free text, on three corpora side by side: two development corpora (the synthetic hotline
  notes and :mod:`desensitize.devnames`, which the rules, word lists and the model's completions
  were tuned on) and the held-out one
  (:mod:`desensitize.heldout`, never tuned on): name recall and precision, identifier recall and
  look-alikes altered, for the rules alone, the model alone, both (the release's path) and
  Presidio with jieba name tagging; notes per second of the release's path against Presidio with
  jieba (floor 3×);
- free text, rules only: the vectorised redaction against Presidio's ``BatchAnalyzerEngine`` with
  the same rules (floor 10×);
- memory: peak RSS of a child process desensitizing a CSV file 1× and 4× as large (flat).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from bench.jieba_presidio import jieba_analyzer, rules_analyzer
from bench.measure import Measure
from desensitize import detect, devnames, heldout, synthetic, vectorized
from desensitize.findings import EntityFinding, replace_findings, without_overlaps
from desensitize.namemodel import name_model, texts_read
from desensitize.pipeline import desensitize_frame, desensitize_table
from desensitize.policy import Policy
from desensitize.recognizers import ChineseNameModelRecognizer
from desensitize.textscan import rule_entities

TABLE_ROWS = 20_000
STRUCTURED_FULL_ROWS = 500  # presidio-structured analysing every row is slow: rate from a subset
TEXT_PRESIDIO_NOTES = 1_500
TEXT_OUR_NOTES = 20_000
NAME_NOTES = 2_000  # notes of each corpus read by the release's path (rules and model)
JIEBA_NOTES = 600  # of them, read by Presidio with jieba (slow)
WITH_TEXT_ROWS = 2_000
MEMORY_BASE_ROWS = 250_000
KEY = bytes(range(32))
REPEATS = 3
CHECKED = {"CN_ID_CARD", "CN_BANK_CARD", "CN_USCC", "CN_MOBILE"}
TABLE_POLICY = """
columns:
  name: {action: pseudonymize}
  id_number: {action: pseudonymize}
  mobile: {action: pseudonymize}
  bank_card: {action: pseudonymize}
  email: {action: pseudonymize}
  plate: {action: pseudonymize}
  address: {action: generalize, address_to: district}
  birth_date: {action: generalize, date_to: month}
"""
POLICY = Policy.from_yaml(TABLE_POLICY)
POLICY_WITH_TEXT = Policy.from_yaml(TABLE_POLICY + "  note: {action: redact}\n")
# The memory child streams a file of a million notes: the name model is off there (it would take
# most of an hour on two cores and does not change how the batches stream).
MEMORY_CHILD = """
import os
os.environ["PDS_DESENSITIZE_NAME_MODEL"] = "false"
import resource, sys
from pathlib import Path
from desensitize.pipeline import desensitize_frame, desensitize_table
desensitize_table(Path(sys.argv[1]), Path(sys.argv[2]), key=bytes(range(32)))
"""


def _table(rows: int, seed: int) -> tuple[pl.DataFrame, list[synthetic.Note]]:
    rng = random.Random(seed)
    records, notes = [], []
    for _ in range(rows):
        row = synthetic.fake_person_row(rng)
        note = synthetic.hotline_complaint_note(rng)
        row["note"] = note.text
        records.append(row)
        notes.append(note)
    return pl.DataFrame(records).with_columns(pl.all().cast(pl.String)), notes


def _recall(notes: list[synthetic.Note], outputs: list[str], kinds: set[str] | None) -> float:
    found = total = 0
    for note, out in zip(notes, outputs, strict=True):
        for entity, text in note.entities:
            if kinds is None or entity in kinds:
                total += 1
                found += text not in out
    return found / total if total else 1.0


def _presidio_redact(texts: list[str]) -> list[str]:
    return [replace_findings(t, f) for t, f in zip(texts, _presidio_find(texts), strict=True)]


def _presidio_find(texts: list[str], engine: Any = None) -> list[list[EntityFinding]]:
    """Presidio's ``BatchAnalyzerEngine`` (with the rules alone unless ``engine`` is given)."""
    from presidio_analyzer import BatchAnalyzerEngine

    batch = BatchAnalyzerEngine(analyzer_engine=engine or rules_analyzer())
    results = batch.analyze_iterator(texts, language="zh")
    return [
        without_overlaps(EntityFinding(r.entity_type, r.start, r.end, r.score, "") for r in found)
        for found in results
    ]


def _structured_rate(frame: pl.DataFrame, *, sample: int | None) -> float:
    """Rows per second of presidio-structured: analysis (of ``sample`` rows, or all) + anonymize,
    with the same rules as ours (no name model: it would only slow Presidio down)."""
    import pandas as pd
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_structured import PandasAnalysisBuilder, StructuredEngine

    data = pd.DataFrame(frame.to_dict(as_series=False))
    started = time.perf_counter()
    builder = PandasAnalysisBuilder(analyzer=rules_analyzer())
    analysis = builder.generate_analysis(data, n=sample, language="zh")
    StructuredEngine().anonymize(
        data, analysis, operators={"DEFAULT": OperatorConfig("replace", {"new_value": "<PII>"})}
    )
    return len(data) / (time.perf_counter() - started)


def _best_rates(frame: pl.DataFrame, source: Path, out: Path) -> dict[str, float]:
    """Best rows per second of each engine over REPEATS rounds. The machine is shared, so the
    engines take turns in every round, and each one's best round counts."""
    full_rows = frame.head(STRUCTURED_FULL_ROWS)
    rates: dict[str, float] = {}
    for _ in range(REPEATS):
        started = time.perf_counter()
        desensitize_frame(frame, policy=POLICY, key=KEY)
        timed = {"memory": frame.height / (time.perf_counter() - started)}
        started = time.perf_counter()
        desensitize_table(source, out, policy=POLICY, key=KEY)
        timed["files"] = frame.height / (time.perf_counter() - started)
        timed["full"] = _structured_rate(full_rows, sample=None)
        timed["sampled"] = _structured_rate(frame, sample=500)
        rates = {k: max(v, rates.get(k, 0.0)) for k, v in timed.items()}
    return rates


def _tables(workdir: Path) -> list[Measure]:
    with_text, notes = _table(TABLE_ROWS, seed=11)
    frame = with_text.drop("note")
    source = workdir / "table.csv"
    frame.write_csv(source)
    out = workdir / "table.parquet"
    # both engines warm (patterns compiled, analyzer built) before anything is timed
    frame.head(300).write_csv(workdir / "warm.csv")
    desensitize_table(workdir / "warm.csv", workdir / "warm.parquet", policy=POLICY, key=KEY)
    rules_analyzer().analyze(str(frame.row(0)), language="zh")
    rates = _best_rates(frame, source, out)
    ours, full, sampled = rates["memory"], rates["full"], rates["sampled"]
    report = desensitize_table(source, out, policy=POLICY, key=KEY)
    result = pl.read_parquet(out)

    cells = frame.lazy().select(
        vectorized.cell_is("CN_ID_CARD", pl.col("id_number")).sum(),
        vectorized.cell_is("CN_MOBILE", pl.col("mobile")).sum(),
        vectorized.cell_is("CN_BANK_CARD", pl.col("bank_card")).sum(),
    )
    recall = sum(cells.collect().row(0)) / (3 * TABLE_ROWS)
    lookalikes = sum(
        int((result.get_column(c) != frame.get_column(c)).sum())
        for c in ("order_no", "amount", "bad_id")
    )
    # the same table with its notes, which the name model reads (a subset: it is slower)
    part, part_notes = with_text.head(WITH_TEXT_ROWS), notes[:WITH_TEXT_ROWS]
    started = time.perf_counter()
    redacted = desensitize_frame(part, policy=POLICY_WITH_TEXT, key=KEY)
    with_text_rate = part.height / (time.perf_counter() - started)
    outputs = redacted.get_column("note").to_list()
    inside = _recall(part_notes, outputs, CHECKED)
    kept_text = sum(all(word in o for word in ("订单号", "涉及金额")) for o in outputs) / len(
        outputs
    )
    detail = f"{TABLE_ROWS} rows, {len(frame.columns)} columns, no free text"
    return [
        Measure("table rows/s (ours, in memory)", ours, "rows/s", detail=detail),
        Measure(
            "table rows/s (ours, CSV file to Parquet file and report)", rates["files"], "rows/s"
        ),
        Measure("table rows/s (presidio-structured, every row)", full, "rows/s"),
        Measure("table rows/s (presidio-structured, 500-row sample)", sampled, "rows/s"),
        Measure("table speed-up vs structured every row", ours / full, "x", floor=100),
        Measure("table speed-up vs structured sampled", ours / sampled, "x", floor=5),
        Measure(
            "table speed-up, files and report included, vs structured", rates["files"] / full, "x"
        ),
        Measure("recall, check-digit identifiers and phones", recall, "", floor=0.99),
        Measure("look-alike cells altered", lookalikes, "cells", floor=0, at_most=True),
        Measure(
            "table rows/s with a notes column (ours, in memory, name model on)",
            with_text_rate,
            "rows/s",
            detail=f"{WITH_TEXT_ROWS} rows, {report.rows_out} written without notes",
        ),
        Measure("recall, check-digit identifiers and phones in the notes", inside, "", floor=0.99),
        Measure("notes keeping their non-personal text", kept_text, "", floor=1.0),
    ]


# ---- names in free text, on the development and the held-out corpus ---------------------------

IDENTIFIERS = {
    "CN_ID_CARD",
    "CN_MOBILE",
    "CN_BANK_CARD",
    "CN_USCC",
    "CN_LICENSE_PLATE",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CN_PASSPORT",
    "CN_HKMO_PERMIT",
}


def _development(n: int, seed: int) -> list[heldout.LabelledText]:
    """The development corpus (synthetic hotline notes) with the spans of its entities."""
    rng = random.Random(seed)
    corpus = []
    for _ in range(n):
        note = synthetic.hotline_complaint_note(rng)
        spans, at = [], 0
        for entity, text in note.entities:  # in the order they were written
            start = note.text.index(text, at if entity == "PERSON" else 0)
            spans.append((start, start + len(text), entity))
            at = start + len(text) if entity == "PERSON" else at
        corpus.append(heldout.LabelledText(note.text, spans))
    return corpus


def _covered(start: int, end: int, found: list[EntityFinding]) -> bool:
    chars = set(range(start, end))
    for f in found:
        chars -= set(range(f.start, f.end))
    return not chars


def _scores(
    corpus: list[heldout.LabelledText], found: list[list[EntityFinding]]
) -> dict[str, float]:
    """Name recall (a name is found when the found spans cover it), name precision (a span
    tagged PERSON that overlaps no name counts against it), identifier recall, and identifier
    spans that overlap no labelled entity (look-alikes altered)."""
    names = names_found = persons = persons_right = ids = ids_found = false_ids = 0
    for item, spans in zip(corpus, found, strict=True):
        for start, end, entity in item.spans:
            if entity == "PERSON":
                names += 1
                names_found += _covered(start, end, spans)
            elif entity in IDENTIFIERS:
                ids += 1
                ids_found += _covered(start, end, spans)
        golden = [(s, e) for s, e, kind in item.spans if kind == "PERSON"]
        labelled = [(s, e) for s, e, _ in item.spans]
        for f in spans:
            if f.entity == "PERSON":
                persons += 1
                persons_right += any(f.start < e and s < f.end for s, e in golden)
            elif f.entity in IDENTIFIERS:
                false_ids += not any(f.start < e and s < f.end for s, e in labelled)
    return {
        "recall": names_found / names if names else 1.0,
        "precision": persons_right / persons if persons else 1.0,
        "id_recall": ids_found / ids if ids else 1.0,
        "false_ids": false_ids,
    }


def _as_findings(spans: list[list[detect.Span]]) -> list[list[EntityFinding]]:
    return [[EntityFinding(s.entity, s.start, s.end, s.score, "") for s in one] for one in spans]


def _name_measures(label: str, corpus: list[heldout.LabelledText]) -> tuple[list[Measure], float]:
    texts = [item.text for item in corpus]
    few = texts[:JIEBA_NOTES]
    jieba = jieba_analyzer()
    jieba.analyze(few[0], language="zh")  # jieba's dictionary loaded before timing
    ours_rate = jieba_rate = 0.0
    for _ in range(2):  # best of two rounds on a shared machine, for each engine
        name_model().forget()  # a first pass: no clause read before
        started = time.perf_counter()
        spans = detect.detect_column_spans(pl.Series(texts))
        ours_rate = max(ours_rate, len(texts) / (time.perf_counter() - started))
        ours = _as_findings(spans)
        started = time.perf_counter()
        theirs = _presidio_find(few, jieba)
        jieba_rate = max(jieba_rate, len(few) / (time.perf_counter() - started))
    # a second grant on the same version: the kept spans applied, no model
    read_before, cached_rate = texts_read(), 0.0
    for _ in range(2):
        started = time.perf_counter()
        detect.apply_spans(texts, spans)
        cached_rate = max(cached_rate, len(texts) / (time.perf_counter() - started))
    cached_reads = texts_read() - read_before
    rules = [rule_entities(t) for t in texts]
    model = ChineseNameModelRecognizer.find(texts)
    scored = {
        "rules and model (release)": _scores(corpus, ours),
        "rules alone": _scores(corpus, rules),
        "model alone": _scores(
            corpus,
            [
                [*r, *m]
                for r, m in zip(
                    [[f for f in one if f.entity != "PERSON"] for one in rules], model, strict=True
                )
            ],
        ),
        "Presidio with jieba": _scores(corpus[:JIEBA_NOTES], theirs),
    }
    ours_sub = _scores(corpus[:JIEBA_NOTES], ours[:JIEBA_NOTES])
    floors = label.startswith("held-out")
    release = scored["rules and model (release)"]
    measures = [
        Measure(
            f"{label}: name recall ({how})",
            s["recall"],
            "",
            detail=f"precision {s['precision']:.3f}, identifier recall {s['id_recall']:.3f}, "
            f"look-alikes tagged {s['false_ids']:.0f}",
        )
        for how, s in scored.items()
    ]
    measures += [
        Measure(f"{label}: name recall", release["recall"], "", floor=0.95 if floors else None),
        Measure(
            f"{label}: name precision", release["precision"], "", floor=0.95 if floors else None
        ),
        Measure(f"{label}: identifier recall", release["id_recall"], "", floor=1.0),
        Measure(f"{label}: look-alikes altered", release["false_ids"], "", floor=0, at_most=True),
        Measure(f"{label}: notes/s, first pass (rules and model)", ours_rate, "notes/s"),
        Measure(f"{label}: notes/s (Presidio with jieba names)", jieba_rate, "notes/s"),
        Measure(
            f"{label}: speed-up of the first pass vs Presidio with jieba",
            ours_rate / jieba_rate,
            "x",
            floor=3,
        ),
        Measure(
            f"{label}: notes/s, a second grant from the kept spans",
            cached_rate,
            "notes/s",
            detail=f"{cached_rate / jieba_rate:,.0f}x Presidio with jieba",
        ),
        Measure(
            f"{label}: texts the model reads for a second grant",
            cached_reads,
            "texts",
            floor=0,
            at_most=True,
        ),
        Measure(
            f"{label}: name recall, ours minus Presidio with jieba",
            ours_sub["recall"] - scored["Presidio with jieba"]["recall"],
            "",
            floor=0,
            detail=f"on the {JIEBA_NOTES} notes both read",
        ),
    ]
    return measures, ours_rate


def _names() -> list[Measure]:
    ChineseNameModelRecognizer.find(["张三在北京市工作"])  # the model loaded before timing
    development, _ = _name_measures(
        "development corpus (tuned on)", _development(NAME_NOTES, seed=31)
    )
    shapes, _ = _name_measures(
        "development name shapes (tuned on)",
        devnames.development_names_corpus(seed=7, n=NAME_NOTES),
    )
    held, _ = _name_measures(
        "held-out corpus (never tuned on)", heldout.heldout_corpus(2027, NAME_NOTES)
    )
    return development + shapes + held


def _free_text() -> list[Measure]:
    """The vectorised rules (no model) against Presidio with the same rules."""
    rng = random.Random(23)
    notes = [synthetic.hotline_complaint_note(rng) for _ in range(TEXT_OUR_NOTES)]
    texts = [n.text for n in notes]
    vectorized.redact_series(pl.Series(texts[:50]))  # compile the patterns once

    few = texts[:TEXT_PRESIDIO_NOTES]
    our_rate = scanner_rate = presidio_rate = 0.0
    for _ in range(REPEATS):  # best of REPEATS on a shared machine, for each engine
        started = time.perf_counter()
        ours = vectorized.redact_series(pl.Series(texts)).to_list()
        our_rate = max(our_rate, len(texts) / (time.perf_counter() - started))

        started = time.perf_counter()
        scanned = [replace_findings(t, rule_entities(t)) for t in few]
        scanner_rate = max(scanner_rate, len(few) / (time.perf_counter() - started))

        started = time.perf_counter()
        theirs = _presidio_redact(few)
        presidio_rate = max(presidio_rate, len(few) / (time.perf_counter() - started))

    sub = notes[:TEXT_PRESIDIO_NOTES]
    ours_recall = _recall(sub, ours[:TEXT_PRESIDIO_NOTES], None)
    theirs_recall = _recall(sub, theirs, None)
    names = _recall(sub, ours[:TEXT_PRESIDIO_NOTES], {"PERSON"})
    their_names = _recall(sub, theirs, {"PERSON"})
    return [
        Measure("rules only: free text notes/s (ours, vectorised)", our_rate, "notes/s"),
        Measure("rules only: notes/s (ours, one text at a time)", scanner_rate, "notes/s"),
        Measure("rules only: notes/s (Presidio BatchAnalyzerEngine)", presidio_rate, "notes/s"),
        Measure("rules only: speed-up vs Presidio batch", our_rate / presidio_rate, "x", floor=10),
        Measure("rules only: recall (ours)", ours_recall, "", detail=f"names {names:.3f}"),
        Measure(
            "rules only: recall (Presidio)", theirs_recall, "", detail=f"names {their_names:.3f}"
        ),
        Measure(
            "rules only: recall, ours minus Presidio", ours_recall - theirs_recall, "", floor=0
        ),
        Measure(
            "rules only: agreement with the one-at-a-time scanner",
            sum(a == b for a, b in zip(ours, scanned, strict=False)) / len(scanned),
            "",
        ),
    ]


def _peak_rss_mib(source: Path, out: Path) -> float:
    child = subprocess.Popen(
        [sys.executable, "-c", MEMORY_CHILD, str(source), str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(child.stderr.read().decode() if child.stderr else "child failed")
    return usage.ru_maxrss / 1024


def _memory(workdir: Path) -> list[Measure]:
    base, _ = _table(20_000, seed=5)
    sizes: dict[int, tuple[float, float]] = {}
    for factor in (1, 4):
        path = workdir / f"big{factor}.csv"
        repeats = MEMORY_BASE_ROWS * factor // base.height
        with path.open("wb") as f:
            base.write_csv(f)
            for _ in range(repeats - 1):
                base.write_csv(f, include_header=False)
        mib = path.stat().st_size / 2**20
        sizes[factor] = (mib, _peak_rss_mib(path, workdir / f"big{factor}.parquet"))
        path.unlink()
    (small_file, small_rss), (big_file, big_rss) = sizes[1], sizes[4]
    return [
        Measure("peak RSS, 1x file", small_rss, "MiB", detail=f"file {small_file:.0f} MiB"),
        Measure("peak RSS, 4x file", big_rss, "MiB", detail=f"file {big_file:.0f} MiB"),
        Measure("peak RSS growth 4x / 1x", big_rss / small_rss, "x", floor=1.5, at_most=True),
        Measure("4x file size / its peak RSS", big_file / big_rss, "x"),
    ]


def run() -> list[Measure]:
    with tempfile.TemporaryDirectory(prefix="pds-bench-") as tmp:
        workdir = Path(tmp)
        measures: list[Any] = _tables(workdir)
        measures += _names()
        measures += _free_text()
        measures += _memory(workdir)
    return measures
