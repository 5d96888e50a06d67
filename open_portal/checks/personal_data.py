"""Personal data in a file, found by the desensitize engine (``scan_file_for_personal_data``):
cells of tables, JSON values, text lines, notebook sources and outputs, the text of PDFs; and in
the printable runs of the raw bytes of every kind whose parser may skip some of them."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from open_portal.checks import CheckResult

if TYPE_CHECKING:
    from desensitize.files import FileFinding

EXAMPLES = 5
NOT_SCANNED = {"png", "jpeg"}  # re-encoded at intake: only pixels remain, and no OCR
PARSED_AS_TEXT = {"csv", "text", "markdown", "html", "svg"}  # their parsed scan is the raw one
# printable runs in the raw bytes; long base64 runs are re-encoded image outputs of notebooks
PRINTABLE = re.compile(r"[^\x00-\x1f\x7f-\x9f\ufffd]{6,}")
BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{200,}")


def in_raw_bytes(data: bytes) -> list[FileFinding]:
    """Personal data in the printable runs of the raw bytes: JSON keys, PDF strings and
    whatever a parser of the file's kind skips."""
    from desensitize.files import FileFinding, mask_excerpt
    from desensitize.textscan import find_entities

    found = []
    text = BASE64_RUN.sub(" ", data.decode("utf-8", errors="replace"))
    for run in PRINTABLE.findall(text):
        for f in find_entities(run):
            found.append(FileFinding("raw bytes", f.entity, mask_excerpt(f.text)))
    return found


def check(name: str, kind: str, data: bytes) -> CheckResult:
    """Scan a private temporary copy (the engine reads files by path); it is removed at once."""
    import desensitize
    from desensitize.exceptions import UnreadableFileError

    if kind in NOT_SCANNED:
        return CheckResult(
            "personal_data", True, "an image: no text to scan", "图片：无可扫描的文本", {}
        )
    suffix = PurePosixPath(name).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="pds-export-scan-") as scratch:
        path = Path(scratch) / f"file{suffix}"
        path.write_bytes(data)
        try:
            findings = desensitize.scan_file_for_personal_data(path)
        except UnreadableFileError as exc:
            reason = str(exc).replace(str(path), name)
            return CheckResult(
                "personal_data",
                False,
                f"the file could not be read to scan it: {reason}",
                f"无法读取文件以扫描个人信息：{reason}",
                {"unreadable": True},
            )
    counts = Counter(f.entity for f in findings)
    if kind not in PARSED_AS_TEXT | NOT_SCANNED:
        # the raw bytes hold what was parsed too: count an entity as often as the larger scan saw it
        raw = in_raw_bytes(data)
        raw_counts = Counter(f.entity for f in raw)
        findings = [*findings, *(f for f in raw if raw_counts[f.entity] > counts[f.entity])]
        counts = counts | raw_counts
    if not findings:
        return CheckResult("personal_data", True, "no personal data found", "未发现个人信息")
    summary = ", ".join(f"{entity} × {n}" for entity, n in sorted(counts.items()))
    return CheckResult(
        "personal_data",
        False,
        f"personal data found: {summary}",
        f"发现个人信息：{summary}",
        {
            "entities": dict(sorted(counts.items())),
            "examples": [
                {"entity": f.entity, "where": f.location, "text": f.excerpt}
                for f in findings[:EXAMPLES]
            ],
        },
    )
