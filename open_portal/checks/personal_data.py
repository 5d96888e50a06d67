"""Personal data in a file, found by the desensitize engine's recognizers."""

from __future__ import annotations

from collections import Counter

from open_portal.checks import CheckResult

EXAMPLES = 5


def _mask(text: str) -> str:
    """Show reviewers where a finding is without repeating it whole."""
    if len(text) <= 2:
        return text[:1] + "*"
    keep = max(1, len(text) // 4)
    return text[:keep] + "*" * (len(text) - 2 * keep) + text[-keep:]


def check(text: str) -> CheckResult:
    from desensitize.textscan import find_entities

    findings = find_entities(text, lang="zh") if text.strip() else []
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
                {"entity": f.entity, "text": _mask(f.text), "offset": f.start}
                for f in findings[:EXAMPLES]
            ],
        },
    )
