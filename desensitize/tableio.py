"""Reading tables (CSV, Parquet, Excel) as LazyFrames and writing them atomically."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import polars as pl
from polars.io.plugins import register_io_source

from desensitize.exceptions import ColumnTypeError, UnreadableFileError

CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
OUTPUT_SUFFIXES = {".csv", ".parquet"}


CSV_BLOCK_BYTES = 16 << 20


def _record_end(data: bytes) -> int:
    """The end of the last whole CSV record in ``data`` (a newline outside quotes), or 0."""
    end = len(data)
    while True:
        end = data.rfind(b"\n", 0, end)
        if end < 0:
            return 0
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1


def _csv_blocks(path: Path, block_bytes: int) -> Iterator[bytes]:
    """The records of a CSV file after its header, in blocks of about ``block_bytes``."""
    with path.open("rb") as f:
        f.readline()
        rest = b""
        while True:
            data = f.read(block_bytes)
            if not data:
                if rest:
                    yield rest
                return
            data = rest + data
            end = _record_end(data)
            if end == 0:
                rest = data
                continue
            yield data[:end]
            rest = data[end:]


def stream_csv(
    path: Path, *, separator: str = ",", block_bytes: int = CSV_BLOCK_BYTES
) -> pl.LazyFrame:
    """A CSV file as a LazyFrame of text columns read block by block, never mapped whole into
    memory: its memory use does not grow with the file."""
    with path.open("rb") as f:
        header = f.readline()
    names = pl.read_csv(io.BytesIO(header), separator=separator, infer_schema=False).columns
    schema = dict.fromkeys(names, pl.String)

    def source(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, _: int | None
    ) -> Iterator[pl.DataFrame]:
        left = n_rows
        # a few rows (a sample, a check) need only small blocks
        size = block_bytes if n_rows is None else min(block_bytes, 1 << 18)
        for block in _csv_blocks(path, size):
            frame = pl.read_csv(
                io.BytesIO(header + block), separator=separator, schema=schema, encoding="utf8"
            )
            if with_columns:
                frame = frame.select(with_columns)
            if predicate is not None:
                frame = frame.filter(predicate)
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            yield frame
            if left is not None and left <= 0:
                return

    return register_io_source(source, schema=schema)


def table_batches(path: Path) -> Iterator[pl.DataFrame]:
    """The rows of a table in batches: CSV block by block (so memory does not grow with the
    file), Parquet by the engine's batches, Excel whole (workbooks are small)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        separator = "\t" if suffix == ".tsv" else ","
        with path.open("rb") as f:
            header = f.readline()
        names = pl.read_csv(io.BytesIO(header), separator=separator, infer_schema=False).columns
        schema = dict.fromkeys(names, pl.String)
        for block in _csv_blocks(path, CSV_BLOCK_BYTES):
            yield pl.read_csv(io.BytesIO(header + block), separator=separator, schema=schema)
    else:
        yield from read_table(path).collect_batches()


def transformed_source(
    path: Path, transform: Callable[[pl.DataFrame, int], pl.DataFrame], schema: pl.Schema
) -> pl.LazyFrame:
    """The table in ``path`` with ``transform`` applied to each batch (and the table row the
    batch starts at) as it is read: the work is pulled by the engine batch by batch, so nothing
    piles up between reading and writing."""

    def source(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, _: int | None
    ) -> Iterator[pl.DataFrame]:
        left = n_rows
        first_row = 0
        for batch in table_batches(path):
            frame = transform(batch, first_row)
            first_row += batch.height
            if with_columns:
                frame = frame.select(with_columns)
            if predicate is not None:
                frame = frame.filter(predicate)
            if left is not None:
                frame = frame.head(left)
                left -= frame.height
            yield frame
            if left is not None and left <= 0:
                return

    return register_io_source(source, schema=schema)


def _first_error_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def read_table(path: Path) -> pl.LazyFrame:
    """The table in ``path``; CSV and Excel cells are read as text (so ``0571…`` and ``X`` stay).

    Raises :class:`UnreadableFileError` naming the file when it is missing, of an unknown type,
    empty or malformed.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    try:
        if suffix in CSV_SUFFIXES:
            frame = stream_csv(path, separator="\t" if suffix == ".tsv" else ",")
        elif suffix in PARQUET_SUFFIXES:
            frame = pl.scan_parquet(path)
        elif suffix in EXCEL_SUFFIXES:
            frame = pl.read_excel(path, infer_schema_length=0).lazy()
        else:
            raise UnreadableFileError(
                f"{path}: unknown table type {suffix or '(none)'}; use CSV, Parquet or Excel"
            )
        frame.head(2).collect()
    except UnreadableFileError:
        raise
    except Exception as exc:  # polars and the Excel reader raise many kinds
        raise UnreadableFileError(f"{path}: cannot read table: {_first_error_line(exc)}") from exc
    return frame


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn errors met while reading the table in ``path`` into :class:`UnreadableFileError`."""
    try:
        yield
    except pl.exceptions.PolarsError as exc:
        raise UnreadableFileError(f"{path}: cannot read table: {_first_error_line(exc)}") from exc


def as_text(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Every column as text (for rules that read values as written)."""
    return frame.with_columns(pl.all().cast(pl.String))


def check_output(out: Path) -> Path:
    """``out`` if its type can be written, else :class:`UnreadableFileError`."""
    if Path(out).suffix.lower() not in OUTPUT_SUFFIXES:
        raise UnreadableFileError(f"{out}: output must end in .parquet or .csv")
    return Path(out)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` that replaces it only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part" + target.suffix
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o644 & ~umask)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def sink_to(frame: pl.LazyFrame, path: Path, *, parquet: bool) -> None:
    """Stream ``frame`` into ``path`` as Parquet (zstd at its fastest level: as small as the
    default level here, and a third faster) or CSV."""
    if parquet:
        frame.sink_parquet(path, compression="zstd", compression_level=1, engine="streaming")
    else:
        frame.sink_csv(path, engine="streaming")


def sink(frame: pl.LazyFrame, out: Path) -> None:
    """Write ``frame`` to ``out`` (Parquet or CSV by its extension), streaming, atomically."""
    out = check_output(out)
    with atomic_path(out) as tmp:
        sink_to(frame, tmp, parquet=out.suffix.lower() == ".parquet")


def write_text_atomic(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---- column types ---------------------------------------------------------------------------
# CSV and Excel cells are read as text (so that "0571…" and ID numbers ending in X stay as
# written). Columns of plain numbers and ISO dates get their type back in the release; the owner
# confirms the inferred types when confirming the policy.

COLUMN_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "float": pl.Float64(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
}
# No leading zero (a code such as 007 or 0571 stays text); at most 15 digits (longer digit runs are
# identifiers: ID numbers, cards, order numbers).
INTEGER = r"^[+-]?(?:0|[1-9][0-9]{0,14})$"
FLOAT = r"^[+-]?(?:(?:0|[1-9][0-9]{0,14})(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?$"
DATE = r"^[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}$"
# a date and a time of day to the minute or second (``2025-03-01 08:30``, ``2025/03/01T08:30:15``)
DATETIME = r"^[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?$"
# Column names that say "identifier" or "code": such columns stay text whatever they hold.
IDENTIFIER_NAMES = (
    "id",
    "no",
    "code",
    "number",
    "phone",
    "mobile",
    "tel",
    "zip",
    "postcode",
    "account",
    "card",
    "编号",
    "号码",
    "代码",
    "编码",
    "电话",
    "手机",
    "邮编",
    "证件",
    "身份证",
    "账号",
    "卡号",
    "序号",
)


def names_an_identifier(column: str) -> bool:
    """Whether a column's name says it holds an identifier or a code (``user_id``, ``邮编``)."""
    words = [w for w in re.split(r"[^0-9a-z]+", column.lower()) if w]
    return any(w in IDENTIFIER_NAMES for w in words) or any(
        n in column for n in IDENTIFIER_NAMES if not n.isascii()
    )


def _cell(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(text != "").then(text)


def _as_date(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all("/", "-").str.to_date("%Y-%m-%d", strict=False)


def _as_datetime(text: pl.Expr, *, strict: bool = False) -> pl.Expr:
    """``YYYY-MM-DD HH:MM[:SS]`` (``/`` or ``T`` also) as a datetime, seconds 0 when absent."""
    normal = text.str.replace_all("/", "-").str.replace("T", " ")
    normal = pl.when(normal.str.len_chars() == 16).then(normal + ":00").otherwise(normal)
    return normal.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=strict)


def infer_column_types(frame: pl.LazyFrame, *, identifiers: Collection[str] = ()) -> dict[str, str]:
    """The type of each column (``string``, ``integer``, ``float``, ``date`` or ``datetime``),
    read from every value: a type is given only when every non-empty value has that form.

    Typed columns (Parquet) keep their type. Text columns named like an identifier, in
    ``identifiers`` (where the scan found personal data) or with no value stay ``string``.
    """
    schema = frame.collect_schema()
    text = [n for n, t in schema.items() if t == pl.String and n not in identifiers]
    text = [n for n in text if not names_an_identifier(n)]
    types = {n: _native_type(t) for n, t in schema.items()}
    if not text:
        return types
    checks = []
    for n in text:
        cell = _cell(n)
        checks += [
            cell.count().alias(f"{n}\0n"),
            cell.str.contains(INTEGER).sum().alias(f"{n}\0integer"),
            cell.str.contains(FLOAT).sum().alias(f"{n}\0float"),
            (cell.str.contains(DATE) & _as_date(cell).is_not_null()).sum().alias(f"{n}\0date"),
            (cell.str.contains(DATETIME) & _as_datetime(cell).is_not_null())
            .sum()
            .alias(f"{n}\0datetime"),
        ]
    counts = frame.select(checks).collect(engine="streaming").row(0, named=True)
    for n in text:
        filled = counts[f"{n}\0n"]
        found = [
            t
            for t in ("integer", "float", "date", "datetime")
            if filled and counts[f"{n}\0{t}"] == filled
        ]
        types[n] = found[0] if found else "string"
    return types


def _native_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return "string"


def _typed(name: str, wanted: str, source: pl.DataType, *, strict: bool) -> pl.Expr | None:
    """Column ``name`` (of type ``source``) as ``wanted``; ``None`` if it is that already."""
    if wanted not in COLUMN_TYPES:
        raise ColumnTypeError(f"column {name!r}: unknown type {wanted!r}")
    target = COLUMN_TYPES[wanted]
    if source == target or (wanted == "datetime" and isinstance(source, pl.Datetime)):
        return None
    if source.is_float() and wanted == "integer":  # 1.5 is no integer (a cast would cut it)
        whole = pl.col(name).round(0) == pl.col(name)
        return pl.when(whole).then(pl.col(name)).cast(target, strict=strict)
    if source != pl.String or wanted == "string":
        return pl.col(name).cast(target, strict=strict)
    cell = _cell(name)
    if wanted == "date":
        return cell.str.replace_all("/", "-").str.to_date("%Y-%m-%d", strict=strict)
    if wanted == "datetime":
        return _as_datetime(cell, strict=strict)
    return cell.cast(target, strict=strict)


def column_type_casts(types: dict[str, str], schema: pl.Schema) -> list[pl.Expr]:
    """The expressions that give the columns of ``schema`` their ``types`` (strict: a value of
    another form fails the query)."""
    casts = [
        (name, _typed(name, wanted, schema[name], strict=True))
        for name, wanted in types.items()
        if name in schema
    ]
    return [expr.alias(name) for name, expr in casts if expr is not None]


def check_column_types(frame: pl.LazyFrame, types: dict[str, str]) -> None:
    """Raise :class:`ColumnTypeError` naming the first column and value that ``types`` does not
    fit (every value is checked)."""
    schema = frame.collect_schema()
    for name, wanted in types.items():
        if name not in schema:
            raise ColumnTypeError(f"unknown column {name!r}")
        typed = _typed(name, wanted, schema[name], strict=False)
        if typed is None:
            continue
        value = pl.col(name)
        if schema[name] == pl.String:
            value = _cell(name)
        bad = frame.select(value.filter(value.is_not_null() & typed.is_null()).first())
        found = bad.collect().item()
        if found is not None:
            raise ColumnTypeError(f"column {name!r}: {str(found)!r} is not of type {wanted}")
