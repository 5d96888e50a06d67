"""Reading tables (CSV, Parquet, Excel) as LazyFrames and writing them atomically."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
from polars.io.plugins import register_io_source

from desensitize.exceptions import UnreadableFileError

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
    path: Path, transform: Callable[[pl.DataFrame], pl.DataFrame], schema: pl.Schema
) -> pl.LazyFrame:
    """The table in ``path`` with ``transform`` applied to each batch as it is read: the work is
    pulled by the engine batch by batch, so nothing piles up between reading and writing."""

    def source(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, _: int | None
    ) -> Iterator[pl.DataFrame]:
        left = n_rows
        for batch in table_batches(path):
            frame = transform(batch)
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
