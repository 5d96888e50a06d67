"""What a member finds when their workspace opens.

JupyterLab in the member's language (the portal's language cookie, sent with the hub's spawn
request, or ``{"lang": ...}`` in the spawn's options), no prompts to fetch news or updates from a
network the workspace does not have, a welcome notebook with the grant's datasets, budget and
last day and worked examples (load, DP, export), and ``outbox/`` (bound by the sandbox).

JupyterLab's settings are written to the workspace's own ``/etc/jupyter`` (root-owned, mounted
read-only): ``jupyter_server_config.json`` (no news feed, no update check, the settings
directory below), ``lab/settings/overrides.json`` (the language, news never fetched) and
``labconfig/page_config.json`` (the announcements plugin disabled). Overrides are defaults: a
member who picks another language in JupyterLab keeps it.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import nbformat

from sandbox.grants import WorkspaceDataset, WorkspaceGrant

#: The portal's language cookie (set on path /, so the hub's spawn request carries it).
LANG_COOKIE = "pds-lang"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LAB_LOCALE = {"zh": "zh_CN", "en": "en"}
NOTEBOOK = "welcome.ipynb"
#: Where the workspace's JupyterLab reads its application settings (inside the sandbox).
LAB_SETTINGS = "/etc/jupyter/lab/settings"


def language(options: dict[str, Any] | None, cookie: str | None) -> str:
    """The member's language: the spawn's options, else the portal's cookie, else Chinese."""
    for candidate in ((options or {}).get("lang"), cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    return DEFAULT_LANGUAGE


def write_lab_config(etc: Path, lang: str) -> None:
    """JupyterLab's configuration under the workspace's ``/etc`` (its host directory ``etc``)."""
    files: dict[str, Any] = {
        "jupyter/jupyter_server_config.json": {
            "LabApp": {
                "app_settings_dir": LAB_SETTINGS,
                "news_url": None,
                "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            }
        },
        "jupyter/lab/settings/overrides.json": {
            "@jupyterlab/translation-extension:plugin": {"locale": LAB_LOCALE[lang]},
            "@jupyterlab/apputils-extension:notification": {
                "fetchNews": "false",
                "checkForUpdates": False,
            },
        },
        "jupyter/labconfig/page_config.json": {
            "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}
        },
    }
    for name, content in files.items():
        path = etc / name
        for parent in reversed(path.relative_to(etc).parents):
            (etc / parent).mkdir(mode=0o755, exist_ok=True)
            os.chmod(etc / parent, 0o755)
        path.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
        path.chmod(0o644)


def place_notebook(home: Path, grant: WorkspaceGrant, lang: str, uid: int, gid: int) -> bool:
    """Put the welcome notebook in the member's ``home`` unless one is there (kept as the member
    left it); True if written. Runs as root in a directory the workspace account owns: nothing
    is followed, and an existing entry (a file or a link) is never opened."""
    data = nbformat.writes(notebook(grant, lang)).encode("utf-8")
    dir_fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        try:
            fd = os.open(
                NOTEBOOK,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
                dir_fd=dir_fd,
            )
        except FileExistsError:
            return False
        try:
            os.fchown(fd, uid, gid)
            os.write(fd, data)
        finally:
            os.close(fd)
    finally:
        os.close(dir_fd)
    return True


def notebook(grant: WorkspaceGrant, lang: str) -> nbformat.NotebookNode:
    """The welcome notebook of ``grant`` in ``lang``: facts first, then examples to run."""
    zh = lang == "zh"
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    last_day = grant.last_day or (grant.ends_at - timedelta(microseconds=1)).date().isoformat()
    budget = grant.epsilon_budget if grant.epsilon_budget not in ("", "0") else ""
    rows = "\n".join(_dataset_row(d, zh) for d in grant.datasets)
    head = "| 数据集 | 名称 | 级别 | 用法 |" if zh else "| dataset | title | level | use |"
    facts = [
        f"# {'欢迎使用授权' if zh else 'Welcome to the workspace of grant'} {grant.grant_id}"
        + (" 的工作空间" if zh else ""),
        "",
        f"- {'最后一天' if zh else 'Last day'}: **{last_day}**"
        + (
            "（当日 24:00 结束，之后工作空间及其文件被销毁）"
            if zh
            else " (it ends at 24:00 that day; the workspace and its files are destroyed then)"
        ),
        f"- {'隐私预算' if zh else 'Privacy budget'}: "
        + (
            f"**ε {budget}**"
            if budget
            else ("本授权没有差分隐私预算" if zh else "none: this grant makes no DP queries")
        ),
        "- "
        + (
            "工作空间没有网络：结果只能通过 `outbox/` 中文件的导出申请带出，经自动检查和审核员审核。"
            if zh
            else "The workspace has no network: results leave only by an export request for files in `outbox/`, checked automatically and by reviewing officers."
        ),
        "",
        head,
        "| --- | --- | --- | --- |",
        rows,
    ]
    cells = [
        md("\n".join(facts)),
        code(
            "from sandbox import client, dp\n\nclient.grant()  # "
            + ("授权、数据集与剩余预算" if zh else "the grant, its datasets and the budget left")
        ),
    ]
    records = [d for d in grant.datasets if d.level == "L2"]
    if records:
        cells += [
            md("## 读取数据" if zh else "## Load data"),
            code(
                f'frame = client.load("{records[0].id}")  # polars LazyFrame\n'
                "frame.head(10).collect()"
            ),
        ]
    dp_ready = [d for d in grant.datasets if d.numeric or d.categorical]
    if budget and dp_ready:
        cells += _dp_cells(dp_ready[0], zh)
    cells += _export_cells(zh)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _dataset_row(d: WorkspaceDataset, zh: bool) -> str:
    title = d.title_zh if zh else d.title_en
    if d.level == "L2":
        use = f'`client.load("{d.id}")`'
    else:
        use = "差分隐私查询 `dp.…`" if zh else "DP queries `dp.…`"
    return f"| `{d.id}` | {title} | {d.level} | {use} |"


def _dp_cells(d: WorkspaceDataset, zh: bool) -> list[Any]:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    text = (
        "## 差分隐私查询\n\n先用 `dp.preview` 看清精度：给定 ε 的 95% 误差，或想要的误差需要多少 ε。"
        "预估只依据数据提供方声明的上下界，不读取数据、不消耗预算。每次查询都消耗 ε，答案按其误差取整。"
        if zh
        else "## Differentially private queries\n\nSee the accuracy first with `dp.preview`: the ±X "
        "(95%) an ε gives, or the ε a wanted ±X costs. It uses the bounds the data owner declared "
        "only: it reads no data and spends nothing. Every query spends ε; answers are rounded to "
        "their error."
    )
    preview = f'dp.preview("{d.id}", "count", ci95=10)  # {"免费" if zh else "free"}'
    ask = f'dp.count("{d.id}", epsilon=0.1)  # {"消耗 ε 0.1" if zh else "spends ε 0.1"}'
    if d.numeric:
        column = d.numeric[0]
        preview += f'\n# dp.preview("{d.id}", "sum", column="{column}", epsilon=0.2)'
    if d.categorical and d.numeric:
        ask += (
            f'\n# dp.group_sum("{d.id}", "{d.numeric[0]}", by=["{d.categorical[0]}"], epsilon=0.5)'
        )
    return [md(text), code(preview), code(ask)]


def _export_cells(zh: bool) -> list[Any]:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    text = (
        "## 导出结果\n\n把要带出的文件放进 `outbox/`，一步提交导出申请：`justification`（文件是什么、为何需要）"
        "和 `controls`（已采取的披露控制措施）都必须填写，与门户表单一致。自动检查未通过时，申请会保存但不提交，"
        "并告诉您还缺什么、在门户的哪个页面完成。"
        if zh
        else "## Export results\n\nPut the files to take out in `outbox/` and request their export in "
        "one step: `justification` (what the files are and why they are needed) and `controls` "
        "(the disclosure controls applied) are both required, as on the portal's form. When an "
        "automatic check fails, the request is saved but not submitted, and the error says what "
        "is missing and the page of the portal where to finish it."
    )
    example = (
        'table = client.outbox() / "table.csv"\n'
        'table.write_text("district,count\\nA,120\\nB,95\\n")\n'
        "# client.request_export(\n"
        '#     ["table.csv"],\n'
        f'#     justification="{"报告图 2：各区人数" if zh else "Figure 2 of the report: counts by district"}",\n'
        f'#     controls="{"小于 10 的单元格已抑制" if zh else "cells below 10 suppressed"}",\n'
        "# )"
    )
    return [md(text), code(example)]
