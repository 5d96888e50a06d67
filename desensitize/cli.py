"""``pds`` commands of the ``desensitize`` package: ``scan``, ``redact``, ``desensitize``."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path
from typing import Any

from desensitize.exceptions import KeyFileError


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this package's commands to the ``pds`` parser."""
    scan = sub.add_parser("scan", help="which columns of a table hold personal data")
    scan.add_argument("file", type=Path, help="CSV, Parquet or Excel table")
    scan.add_argument("--json", action="store_true", help="print the findings as JSON")
    scan.add_argument("--sample-rows", type=int, default=None, help="rows to sample (500)")
    scan.set_defaults(handler=scan_command)

    redact = sub.add_parser("redact", help="replace personal data in text lines from stdin")
    redact.add_argument("--lang", choices=("zh", "en"), default="zh")
    redact.set_defaults(handler=redact_command)

    run = sub.add_parser("desensitize", help="apply a desensitization policy to a table")
    run.add_argument("file", type=Path, help="CSV, Parquet or Excel table")
    run.add_argument("--out", type=Path, required=True, help="output .parquet or .csv")
    run.add_argument("--policy", type=Path, help="policy YAML (default: derived from a scan)")
    run.add_argument("--key-file", type=Path, help="pseudonymization key (default: random)")
    run.add_argument("--level", choices=("L1", "L2"), default="L2", help="for a default policy")
    run.set_defaults(handler=desensitize_command)


def scan_command(args: argparse.Namespace) -> int:
    from desensitize.scan import scan_table

    scan = scan_table(args.file, sample_rows=args.sample_rows)
    if args.json:
        columns = [
            {"name": c.name, "entity": c.entity, "score": c.score, "share": c.share}
            for c in scan.columns
        ]
        print(json.dumps({"columns": columns}, ensure_ascii=False))
        return 0
    width = max((len(c.name) for c in scan.columns), default=4)
    for c in scan.columns:
        print(f"{c.name:<{width}}  {c.entity or '-':<17} score {c.score:.2f}  share {c.share:.2f}")
    return 0


def redact_command(args: argparse.Namespace) -> int:
    from desensitize.textscan import redact_text

    stdin = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    for line in stdin:
        body = line.rstrip("\n")
        sys.stdout.write(redact_text(body, lang=args.lang) + ("\n" if line.endswith("\n") else ""))
    sys.stdout.flush()
    return 0


def read_key(path: Path | None) -> bytes:
    """The key in ``path`` (raw bytes, or hex text), or a fresh random key if none is given."""
    if path is None:
        return secrets.token_bytes(32)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read key file: {exc.strerror}") from None
    text = raw.strip()
    try:
        return bytes.fromhex(text.decode("ascii")) if text else b""
    except (UnicodeDecodeError, ValueError):
        return raw


def desensitize_command(args: argparse.Namespace) -> int:
    from desensitize.pipeline import desensitize_table
    from desensitize.policy import load_policy
    from desensitize.report import report_path

    policy = load_policy(args.policy) if args.policy else None
    report = desensitize_table(
        args.file, args.out, policy=policy, key=read_key(args.key_file), level=args.level
    )
    print(
        f"{args.out}: {report.rows_out} rows written, {report.rows_suppressed} suppressed"
        + (f", k = {report.k_achieved}" if report.k_achieved else "")
        + f"; report {report_path(args.out)}"
    )
    if args.key_file is None:
        print("pds: no --key-file: pseudonyms used a one-off random key", file=sys.stderr)
    return 0
