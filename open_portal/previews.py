"""What reviewers are shown of a held export file: an HTML rendering (escaped; images, HTML and
PDF by reference to the held file, shown in a sandbox), and how the file itself is served."""

from __future__ import annotations

import base64
import csv
import html
import io
import json

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


def render_preview(kind: str, data: bytes, src: str) -> str:
    """An HTML rendering of a held file for its reviewers (escaped; images inline)."""
    if kind in ("png", "jpeg", "svg"):
        return f'<img class="preview" src="{html.escape(src)}" alt="">'
    if kind in ("html", "pdf"):
        return f'<iframe class="preview" sandbox src="{html.escape(src)}" title="preview"></iframe>'
    text = data[:PREVIEW_BYTES].decode("utf-8-sig", errors="replace")
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        body = "".join(
            "<tr>"
            + "".join(
                f"<{'th' if i == 0 else 'td'}>{html.escape(c)}</{'th' if i == 0 else 'td'}>"
                for c in row
            )
            + "</tr>"
            for i, row in enumerate(rows[: PREVIEW_ROWS + 1])
        )
        more = f"<p>… {len(rows) - PREVIEW_ROWS - 1}</p>" if len(rows) > PREVIEW_ROWS + 1 else ""
        return f'<table class="preview">{body}</table>{more}'
    if kind == "notebook":
        return notebook_html(data)
    return f'<pre class="preview">{html.escape(text)}</pre>'


def notebook_html(data: bytes) -> str:
    """Cells with their outputs: text escaped, images inline; HTML outputs shown as text."""
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except ValueError:
        return f"<pre>{html.escape(data[:PREVIEW_BYTES].decode('utf-8', 'replace'))}</pre>"
    parts = ['<div class="notebook">']
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        parts.append(
            f'<pre class="cell {html.escape(str(cell.get("cell_type", "")))}">{html.escape(source)}</pre>'
        )
        for output in cell.get("outputs", []) or []:
            bundle = output.get("data") or {}
            for image in ("image/png", "image/jpeg"):
                if image in bundle:
                    raw = (
                        "".join(bundle[image])
                        if isinstance(bundle[image], list)
                        else str(bundle[image])
                    )
                    try:
                        base64.b64decode(raw.replace("\n", ""), validate=True)
                    except ValueError:
                        continue
                    parts.append(
                        f'<img class="output" src="data:{image};base64,{html.escape(raw.strip())}" alt="">'
                    )
            text = output.get("text") or bundle.get("text/plain") or ""
            if "traceback" in output:
                text = "\n".join(output["traceback"])
            text = "".join(text) if isinstance(text, list) else str(text)
            if text:
                parts.append(f'<pre class="output">{html.escape(text)}</pre>')
    parts.append("</div>")
    return "".join(parts)
