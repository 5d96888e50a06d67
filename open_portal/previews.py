"""What reviewers are shown of a held export file: an HTML rendering (escaped; images, HTML and
PDF by reference to the held file, shown in a sandbox), and how the file itself is served."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from typing import Any

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "svg": "image/svg+xml",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "text": "text/plain; charset=utf-8",
    "json": "application/json",
    "markdown": "text/plain; charset=utf-8",
    "notebook": "application/json",
}
# Files from a workspace are shown in a sandbox: no script, no request to anywhere.
SANDBOX_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# previews that only point at the held file (the browser fetches it, and that read is audited)
BY_REFERENCE = ("png", "jpeg", "svg", "html", "pdf")
PREVIEW_BYTES = 256 * 1024
PREVIEW_ROWS = 200


def truncated(shown: str, total: str, src: str) -> str:
    """The note under a preview that does not show the whole file, with a link to all of it."""
    return (
        f'<p class="truncated">仅显示{html.escape(shown)}（共 {html.escape(total)}） · '
        f"Showing {html.escape(shown)} of {html.escape(total)} · "
        f'<a href="{html.escape(src)}" target="_blank" rel="noopener">'
        "打开完整文件 / open the whole file</a></p>"
    )


def render_preview(kind: str, data: bytes, src: str) -> str:
    """An HTML rendering of a held file for its reviewers (escaped; images inline).

    Images, SVG, HTML and PDF are shown by reference to the held file (in a sandbox), SVG and
    HTML also as their escaped source; tables and
    text show at most ``PREVIEW_ROWS`` rows or ``PREVIEW_BYTES`` bytes and say so when they stop
    short; notebooks are shown whole (the intake kept only what this shows).
    """
    if kind in ("png", "jpeg"):
        return f'<img class="preview" src="{html.escape(src)}" alt="">'
    if kind == "pdf":
        return f'<iframe class="preview" sandbox src="{html.escape(src)}" title="preview"></iframe>'
    if kind in ("svg", "html"):
        # rendered, and as its source: what a rendering hides (comments, hidden elements, text
        # drawn off the page) is in the file that leaves
        shown = (
            f'<img class="preview" src="{html.escape(src)}" alt="">'
            if kind == "svg"
            else f'<iframe class="preview" sandbox src="{html.escape(src)}" title="preview"></iframe>'
        )
        return f'{shown}<p class="mime">源代码 / source</p>{render_preview("text", data, src)}'
    if kind == "notebook":
        return notebook_html(data)
    cut = len(data) > PREVIEW_BYTES
    text = data[:PREVIEW_BYTES].decode("utf-8-sig", errors="replace")
    size = f"{len(data)} bytes / 字节"
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        if cut and rows:
            rows = rows[:-1]  # the last row read may be cut in the middle
        body = "".join(
            "<tr>"
            + "".join(
                f"<{'th' if i == 0 else 'td'}>{html.escape(c)}</{'th' if i == 0 else 'td'}>"
                for c in row
            )
            + "</tr>"
            for i, row in enumerate(rows[: PREVIEW_ROWS + 1])
        )
        note = ""
        if cut or len(rows) > PREVIEW_ROWS + 1:
            note = truncated(f" {min(len(rows), PREVIEW_ROWS + 1)} rows / 行", size, src)
        return f'<table class="preview">{body}</table>{note}'
    note = truncated(f" {PREVIEW_BYTES} bytes / 字节", size, src) if cut else ""
    return f'<pre class="preview">{html.escape(text)}</pre>{note}'


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def notebook_html(data: bytes) -> str:
    """Every cell and every output the intake kept: text of every type escaped (HTML, Markdown,
    LaTeX and JSON as their source, each labelled with its type), PNG and JPEG inline."""
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except ValueError:
        return f"<pre>{html.escape(data.decode('utf-8', 'replace'))}</pre>"
    parts = ['<div class="notebook">']
    for cell in notebook.get("cells", []):
        kind = html.escape(str(cell.get("cell_type", "")))
        parts.append(f'<pre class="cell {kind}">{html.escape(_text(cell.get("source")))}</pre>')
        for output in cell.get("outputs", []) or []:
            parts.extend(_output_html(output))
    parts.append("</div>")
    return "".join(parts)


def _output_html(output: dict[str, Any]) -> list[str]:
    kind = output.get("output_type")
    if kind == "stream":
        name = html.escape(str(output.get("name", "")))
        return [f'<pre class="output {name}">{html.escape(_text(output.get("text")))}</pre>']
    if kind == "error":
        text = f"{output.get('ename', '')}: {output.get('evalue', '')}\n" + "\n".join(
            str(line) for line in output.get("traceback", []) or []
        )
        return [f'<pre class="output error">{html.escape(text)}</pre>']
    parts = []
    for media_type, value in (output.get("data") or {}).items():
        label = f'<p class="mime">{html.escape(str(media_type))}</p>'
        if media_type in ("image/png", "image/jpeg"):
            raw = _text(value).replace("\n", "").strip()
            try:
                base64.b64decode(raw, validate=True)
            except ValueError:
                parts.append(label + '<p class="error">invalid image / 图片无效</p>')
                continue
            parts.append(f'{label}<img class="output" src="data:{media_type};base64,{raw}" alt="">')
        elif media_type == "application/json" or not isinstance(value, str | list):
            shown = json.dumps(value, ensure_ascii=False, indent=1)
            parts.append(f'{label}<pre class="output">{html.escape(shown)}</pre>')
        else:
            parts.append(f'{label}<pre class="output">{html.escape(_text(value))}</pre>')
    return parts
