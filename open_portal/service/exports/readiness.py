"""What an export request still needs before it can be submitted: one list, used by ``submit``,
by the request page (shown next to the submit button) and by the workspace's one-step export
(returned to the client with the address where to finish)."""

from __future__ import annotations

from dataclasses import dataclass

from open_portal.models import ExportRequest
from open_portal.service.exports.records import active_files


@dataclass(frozen=True)
class Missing:
    """One thing to do before submitting, in both languages; ``field`` names the form's field."""

    field: str  # "files", "justification", "controls" or "answer"
    en: str
    zh: str
    file: str = ""  # the file whose failing checks need an answer

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "file": self.file, "en": self.en, "zh": self.zh}


def missing(request: ExportRequest) -> list[Missing]:
    """Everything a request lacks to be submitted, in the order the form asks for it."""
    files = active_files(request)
    if not files:
        return [Missing("files", "the request has no files", "导出申请中没有文件")]
    found = []
    for name in sorted({f.group for f in files}):
        group = request.groups.get(name, {})
        if not group.get("context"):
            found.append(
                Missing(
                    "justification",
                    f"describe the context of file group {name!r}: what the files are and why "
                    "they are needed",
                    f"请填写文件组「{name}」的背景说明：文件是什么、为何需要",
                )
            )
        if not group.get("controls"):
            found.append(
                Missing(
                    "controls",
                    f"describe the disclosure controls applied to file group {name!r} "
                    "(suppression of small cells, rounding, ...)",
                    f"请填写文件组「{name}」已采取的披露控制措施（小单元格抑制、取整等）",
                )
            )
    for file in files:
        if file.failing_checks and not file.response:
            checks = ", ".join(str(c.get("check", "")) for c in file.failing_checks)
            found.append(
                Missing(
                    "answer",
                    f"answer the failing checks of {file.name} ({checks})",
                    f"请回应 {file.name} 未通过的自动检查（{checks}）",
                    file=file.name,
                )
            )
    return found
