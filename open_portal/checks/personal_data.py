"""Personal data in a file, found by the desensitize engine (``scan_file_for_personal_data``):
cells of tables, JSON values, text lines, notebook sources and outputs, the text of PDFs."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path, PurePosixPath

from open_portal.checks import CheckResult

EXAMPLES = 5
NOT_SCANNED = {"png", "jpeg"}  # no text to scan (no OCR)


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
    if not findings:
        return CheckResult("personal_data", True, "no personal data found", "未发现个人信息")
    counts = Counter(f.entity for f in findings)
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
