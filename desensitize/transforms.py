"""The policy actions as ``LazyFrame -> LazyFrame`` functions, vectorised in polars."""

from __future__ import annotations

import contextlib
import functools
import itertools
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from desensitize import detect, vectorized
from desensitize.policy import Action, ColumnRule, Policy
from desensitize.pseudonym import pseudonymize_series
from desensitize.recognizers.cn.address import ADMIN_PREFIX
from desensitize.scan import TableScan
from desensitize.spancache import redact_with_spans, spans_of, split_by_column


def mask(frame: pl.LazyFrame, column: str, *, keep_first: int, keep_last: int) -> pl.LazyFrame:
    """Show the first and last characters, ``*`` for the rest (all ``*`` if it is too short)."""
    text = pl.col(column).cast(pl.String)
    n = text.str.len_chars()
    hidden = pl.max_horizontal(n - keep_first - keep_last, 0)
    shown = n > keep_first + keep_last
    masked = pl.concat_str(
        text.str.head(keep_first),
        text.str.slice(keep_first, hidden).str.replace_all(".", "*"),
        text.str.tail(keep_last) if keep_last else pl.lit(""),
    )
    return frame.with_columns(
        pl.when(shown).then(masked).otherwise(text.str.replace_all(".", "*")).alias(column)
    )


def normalized_identifier(expr: pl.Expr, entity: str | None) -> pl.Expr:
    """The form of an identifier that its pseudonym is computed from, so that variants join."""
    text = expr.cast(pl.String).str.strip_chars()
    if entity in ("CN_ID_CARD", "CN_USCC", "CN_PASSPORT", "CN_HKMO_PERMIT", "CN_LICENSE_PLATE"):
        return text.str.to_uppercase().str.replace_all(r"[\s·•・.\-]", "")
    if entity == "PHONE_NUMBER":  # "(0571)87654321" and "+86 571 8765 4321" are one number
        return vectorized.landline_national(text)
    if entity == "CN_MOBILE":
        return text.str.replace_all("[^0-9]", "").str.slice(-11)
    if entity == "CN_BANK_CARD":
        return text.str.replace_all("[^0-9]", "")
    if entity == "EMAIL_ADDRESS":
        return text.str.to_lowercase()
    return text


def pseudonymize(
    frame: pl.LazyFrame, column: str, *, key: bytes, entity: str | None
) -> pl.LazyFrame:
    """Replace values by their keyed pseudonyms (HMAC-SHA256 under the grant's key)."""
    return frame.with_columns(
        normalized_identifier(pl.col(column), entity)
        .map_batches(functools.partial(pseudonymize_series, key=key), return_dtype=pl.String)
        .alias(column)
    )


def bin_numbers(frame: pl.LazyFrame, column: str, *, edges: list[float]) -> pl.LazyFrame:
    """Numbers as intervals such as ``(18, 30]``; what is not a number becomes null."""
    number = pl.col(column).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    labels = [f"(-inf, {edges[0]:g}]"]
    labels += [f"({a:g}, {b:g}]" for a, b in itertools.pairwise(edges)]
    labels += [f"({edges[-1]:g}, inf)"]
    binned: Any = pl.when(number.is_null()).then(pl.lit(None, dtype=pl.String))
    for edge, label in zip(edges, labels, strict=False):
        binned = binned.when(number <= edge).then(pl.lit(label))
    return frame.with_columns(binned.otherwise(pl.lit(labels[-1])).alias(column))


def truncate_dates(frame: pl.LazyFrame, column: str, *, unit: str) -> pl.LazyFrame:
    """Dates cut to ``YYYY-MM`` (month) or ``YYYY`` (year)."""
    text = pl.col(column).cast(pl.String).str.strip_chars().str.replace_all("/", "-")
    date = text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    fmt = "%Y-%m" if unit == "month" else "%Y"
    return frame.with_columns(date.dt.strftime(fmt).alias(column))


def address_to_district(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """An address cut to its administrative units down to the district; null if it has none."""
    prefix = pl.col(column).cast(pl.String).str.strip_chars().str.extract(ADMIN_PREFIX, 1)
    return frame.with_columns(pl.when(prefix != "").then(prefix).alias(column))


def _pseudonym_columns(
    batch: pl.DataFrame, pseudonyms: dict[str, str | None], key: bytes
) -> list[pl.Series]:
    normal = batch.select(
        normalized_identifier(pl.col(c), entity).alias(c) for c, entity in pseudonyms.items()
    )
    return [pseudonymize_series(normal.get_column(c), key) for c in pseudonyms]


# While Python code runs beside polars threads, the interpreter hands the GIL over this often
# (instead of every 5 ms): the polars threads need it only for a moment between two calls, and
# waiting 5 ms for each of those moments would stall them.
HANDOVER_SECONDS = 0.0005
_handover_lock = threading.Lock()
_handover_users = 0
_handover_before = 0.0


@contextlib.contextmanager
def prompt_gil_handover() -> Iterator[None]:
    """Hand the GIL over every ``HANDOVER_SECONDS`` inside the block (nested and concurrent
    users share it; the last one out restores the interpreter's interval)."""
    global _handover_users, _handover_before
    with _handover_lock:
        if _handover_users == 0:
            _handover_before = sys.getswitchinterval()
            sys.setswitchinterval(min(HANDOVER_SECONDS, _handover_before))
        _handover_users += 1
    try:
        yield
    finally:
        with _handover_lock:
            _handover_users -= 1
            if _handover_users == 0:
                sys.setswitchinterval(_handover_before)


def entity_pseudonyms(found: list[tuple[str, str]], *, key: bytes) -> list[str]:
    """``<ENTITY_TYPE:pseudonym>`` for each (entity, text) found inside free text: the keyed
    pseudonym of the normalized identifier, as a column of that entity gets it (so a mobile
    number in a note joins the mobile column within a grant)."""
    entities = [e for e, _ in found]
    frame = pl.DataFrame(
        {"entity": entities, "text": [t for _, t in found]},
        schema={"entity": pl.String, "text": pl.String},
    )
    normal: pl.Expr = pl.col("text")
    for entity in set(entities):
        normal = (
            pl.when(pl.col("entity") == entity)
            .then(normalized_identifier(pl.col("text"), entity))
            .otherwise(normal)
        )
    digests = pseudonymize_series(frame.select(normal).to_series(), key)
    return [f"<{e}:{d}>" for e, d in zip(entities, digests, strict=True)]


def _redacted(
    batch: pl.DataFrame,
    redact: list[str],
    kept: dict[str, pl.DataFrame],
    first_row: int,
    *,
    pseudonymized: set[str],
    key: bytes,
    fresh: bool = True,
) -> pl.DataFrame:
    """``batch`` with the free text of ``redact`` redacted: from the kept spans of a column where
    there are some (see :mod:`desensitize.spancache`), else found now by the rules and the name
    model (``fresh``: no spans were kept) or, beside kept spans (a column with none: nothing was
    found in it), by the vectorised rules, so that a release from kept spans runs no model; the
    entities of ``pseudonymized`` columns become their keyed pseudonyms (from spans found now if
    none are kept)."""
    spans = {
        c: kept[c] if c in kept else spans_of(batch.get_column(c), first_row)
        for c in redact
        if c in kept or c in pseudonymized
    }
    found = [c for c in redact if c not in spans]
    redactor = detect.redact_columns if fresh else vectorized.redact_columns
    redacted = redactor(batch, found) if found else batch
    label = functools.partial(entity_pseudonyms, key=key)
    return redacted.with_columns(
        redact_with_spans(
            batch.get_column(c), part, first_row, label=label if c in pseudonymized else None
        )
        for c, part in spans.items()
    )


def _per_batch(
    batch: pl.DataFrame,
    first_row: int = 0,
    *,
    redact: list[str],
    kept: dict[str, pl.DataFrame],
    pseudonymized: set[str],
    pseudonyms: dict[str, str | None],
    key: bytes,
    fresh: bool = True,
) -> pl.DataFrame:
    """The actions that run Python code, on one batch (rows ``first_row`` on of the table): the
    pseudonyms (Python, holding the GIL) are computed in a second thread while the redaction
    (mostly polars, releasing it) runs."""
    redacting = functools.partial(
        _redacted,
        batch,
        redact,
        kept,
        first_row,
        pseudonymized=pseudonymized,
        key=key,
        fresh=fresh,
    )
    if not pseudonyms:
        return redacting()
    with prompt_gil_handover(), ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_pseudonym_columns, batch, pseudonyms, key)
        redacted = redacting()
        return redacted.with_columns(pending.result())


def python_actions(
    policy: Policy, scan: TableScan, *, key: bytes, spans: pl.DataFrame | None = None
) -> tuple[Callable[..., pl.DataFrame] | None, set[str]]:
    """The per-batch function for the actions that run Python code (``redact`` and
    ``pseudonymize``), and the columns it changes; ``None`` if the policy has none.

    The function takes a batch and the table row it starts at; ``spans`` are spans kept for the
    table's free text (see :mod:`desensitize.spancache`), replaced instead of detected anew.
    """
    redact = [n for n, r in policy.columns.items() if r.action == Action.REDACT]
    pseudonyms = {
        n: _entity(scan, n) for n, r in policy.columns.items() if r.action == Action.PSEUDONYMIZE
    }
    if not redact and not pseudonyms:
        return None, set()
    kept = split_by_column(spans) if spans is not None else {}
    pseudonymized = {n for n in redact if policy.columns[n].pseudonymize_entities}
    function = functools.partial(
        _per_batch,
        redact=redact,
        kept=kept,
        pseudonymized=pseudonymized,
        pseudonyms=pseudonyms,
        key=key,
        fresh=spans is None,
    )
    return function, set(redact) | set(pseudonyms)


def _entity(scan: TableScan, column: str) -> str | None:
    finding = scan.column(column)
    return finding.entity if finding else None


def apply_rule(
    frame: pl.LazyFrame, column: str, rule: ColumnRule, *, key: bytes, entity: str | None
) -> pl.LazyFrame:
    """One column's action (``redact`` is batched separately, see :func:`apply_policy`)."""
    match rule.action:
        case Action.KEEP | Action.REDACT:
            return frame
        case Action.DROP:
            return frame.drop(column)
        case Action.MASK:
            if entity is not None:  # "+86 138-1234-5678" is masked as "138****5678"
                frame = frame.with_columns(normalized_identifier(pl.col(column), entity))
            return mask(frame, column, keep_first=rule.keep_first, keep_last=rule.keep_last)
        case Action.PSEUDONYMIZE:
            return pseudonymize(frame, column, key=key, entity=entity)
        case Action.GENERALIZE if rule.bins:
            return bin_numbers(frame, column, edges=rule.bins)
        case Action.GENERALIZE if rule.date_to:
            return truncate_dates(frame, column, unit=rule.date_to)
        case _:
            return address_to_district(frame, column)


def apply_policy(
    frame: pl.LazyFrame,
    policy: Policy,
    scan: TableScan,
    *,
    key: bytes,
    python_done: bool = False,
) -> pl.LazyFrame:
    """Every column action of ``policy`` (k-anonymity is applied afterwards, it needs counts).

    ``python_done`` says that the redaction and pseudonyms were already applied batch by batch
    at the source (see :func:`desensitize.tableio.transformed_source`).
    """
    function, changed = (None, set()) if python_done else python_actions(policy, scan, key=key)
    if function is not None:
        schema = frame.collect_schema()
        frame = frame.map_batches(
            function,
            schema=pl.Schema({n: (pl.String if n in changed else t) for n, t in schema.items()}),
            streamable=True,
        )
    for column, rule in policy.columns.items():
        if rule.action not in (Action.REDACT, Action.PSEUDONYMIZE):
            frame = apply_rule(frame, column, rule, key=key, entity=_entity(scan, column))
    return frame
