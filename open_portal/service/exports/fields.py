"""Length limits of the free text written on an export request, with one clear refusal.

Every field a person or a workspace writes is bounded: an unbounded comment or justification is
a channel out of the workspace that no reviewer is asked to read, and a database column would
refuse it with an error instead of a message.
"""

from __future__ import annotations

from open_portal.exceptions import InvalidInput

MAX_TEXT = 4000  # justification, controls, answers to checks, comments
MAX_GROUP = 64  # file group names (the column's width)
MAX_REASON = 500  # the reason given for destroying a grant (column of 512)

NAMES = {
    "justification": "背景说明",
    "controls": "披露控制措施",
    "response": "对自动检查的回应",
    "comment": "意见",
    "group": "文件组名称",
    "reason": "销毁原因",
}


def bounded(value: str, field: str, limit: int = MAX_TEXT) -> str:
    """``value`` without surrounding blanks, or ``InvalidInput`` when it is longer than ``limit``."""
    text = (value or "").strip()
    if len(text) > limit:
        raise InvalidInput(
            f"the {field} is {len(text)} characters long, above the limit of {limit}",
            zh=f"{NAMES.get(field, field)}长度为 {len(text)} 个字符，超过上限 {limit}",
        )
    return text


def group_name(value: str) -> str:
    """A file group's name: 1 to ``MAX_GROUP`` characters, no control characters."""
    name = bounded(value, "group", MAX_GROUP) or "default"
    if any(ord(c) < 32 or c in "/\\" for c in name):
        raise InvalidInput(
            "a file group's name has no slashes or control characters",
            zh="文件组名称不能包含斜杠或控制字符",
        )
    return name
