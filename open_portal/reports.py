"""The security assessment report as people read it: SVG charts for the page, and a PDF.

Presentation only: the figures come from :func:`open_portal.service.assessment.report_view`.
The PDF is drawn with fpdf2 in Noto Sans CJK (Debian's fonts-noto-cjk, installed by
``scripts/system-packages.sh``), so Chinese and English both print.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from open_portal.i18n import N_
from open_portal.labels import COLUMN_TYPES

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
CJK_SC = 2  # Noto Sans CJK SC in the collection
ACTION_COLOURS = {
    "keep": "#7a8699",
    "drop": "#e8453c",
    "mask": "#f0a030",
    "pseudonymize": "#1f6feb",
    "generalize": "#2da44e",
    "redact": "#8250df",
}
BEFORE, AFTER = "#e8453c", "#2da44e"


def risk_svg(measures: list[tuple[str, float, float]], t: Callable[[str], str]) -> str:
    """Grouped bars (0–100 %): each risk measure before and after the policy."""
    width, row, left = 640, 34, 230
    height = 52 + row * len(measures)
    top = axis_max([v for _, b, a in measures for v in (b, a)])
    scale = (width - left - 60) / top
    parts = [
        f'<svg id="risk-chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(t("Re-identification risk"))}" '
        'xmlns="http://www.w3.org/2000/svg" font-size="12">',
        f'<rect x="{left}" y="8" width="10" height="10" fill="{BEFORE}"/>'
        f'<text x="{left + 14}" y="17">{escape(t("before the policy"))}</text>'
        f'<rect x="{left + 150}" y="8" width="10" height="10" fill="{AFTER}"/>'
        f'<text x="{left + 164}" y="17">{escape(t("after the policy"))}</text>',
    ]
    for i, (label, before, after) in enumerate(measures):
        y = 30 + i * row
        parts.append(f'<text x="0" y="{y + 14}">{escape(t(label))}</text>')
        for j, (value, colour) in enumerate(((before, BEFORE), (after, AFTER))):
            bar = max(value * scale, 1)
            parts.append(
                f'<rect x="{left}" y="{y + j * 12}" width="{bar:.1f}" height="10" fill="{colour}">'
                f"<title>{value:.2%}</title></rect>"
                f'<text x="{left + bar + 4:.1f}" y="{y + j * 12 + 9}" font-size="10">'
                f"{value:.2%}</text>"
            )
    axis = height - 16
    parts.append(
        f'<line x1="{left}" y1="26" x2="{left}" y2="{axis}" stroke="#9aa4b2"/>'
        f'<line x1="{left}" y1="{axis}" x2="{width - 60}" y2="{axis}" stroke="#9aa4b2"/>'
        f'<text x="{left}" y="{axis + 13}" font-size="10">0</text>'
        f'<text x="{width - 60}" y="{axis + 13}" font-size="10" text-anchor="end">{top:.2%}</text>'
        "</svg>"
    )
    return "".join(parts)


def axis_max(values: list[float]) -> float:
    """The end of the axis: the largest value rounded up to 1, 2 or 5 times a power of ten
    (at most 100 %), so that small risks are still seen."""
    largest = max([*values, 0.0001])
    step = 0.0001
    while True:
        for factor in (1, 2, 5):
            if largest <= step * factor or step * factor >= 1:
                return min(step * factor, 1.0)
        step *= 10


def actions_svg(columns: list[dict[str, Any]], t: Callable[[str], str]) -> str:
    """One stacked bar: how many columns get each action."""
    counts = Counter(c["action"] for c in columns)
    total = sum(counts.values()) or 1
    width, x = 640, 0.0
    parts = [
        f'<svg id="actions-chart" width="{width}" height="64" viewBox="0 0 {width} 64" role="img" '
        f'aria-label="{escape(t("Columns by action"))}" xmlns="http://www.w3.org/2000/svg" '
        'font-size="12">'
    ]
    for action, n in sorted(counts.items()):
        w = width * n / total
        colour = ACTION_COLOURS.get(action, "#9aa4b2")
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="28" fill="{colour}">'
            f"<title>{escape(t(action))}: {n}</title></rect>"
            f'<text x="{x + 4:.1f}" y="46">{escape(t(action))} {n}</text>'
        )
        x += w
    parts.append("</svg>")
    return "".join(parts)


@lru_cache(maxsize=1)
def _font_available() -> bool:
    return CJK_FONT.is_file()


def report_pdf(view: dict[str, Any], t: Callable[[str], str], lang: str) -> bytes:
    """The report as a PDF in the reader's language, with the same figures and bar charts."""
    dataset = view["dataset"]
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    if _font_available():
        pdf.add_font("cjk", "", str(CJK_FONT), collection_font_number=CJK_SC)
        font = "cjk"
    else:  # without the Debian font only Latin text prints
        font = "helvetica"
    pdf.add_page()
    pdf.set_title(f"{t('Security assessment report')} {dataset.id}")
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str, size: int = 13) -> None:
        pdf.set_font(font, size=size)
        pdf.ln(2)
        pdf.multi_cell(width, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(font, size=9)

    def line(text: str) -> None:
        pdf.multi_cell(width, 5, text, new_x="LMARGIN", new_y="NEXT")

    title = dataset.title_zh if lang == "zh" else dataset.title_en
    heading(f"{t('Security assessment report')}: {title}", 16)
    line(f"{t('Dataset')} {dataset.id} · {t('Level')} {view['level']} · v{view['version'].number}")
    line(f"{t('Made at')} {view['created_at']}")
    line(f"{t('Source file')} SHA-256 {view['source_sha256']}")
    if not view["records_leave"]:
        note = LEVEL_NOTE[view["level"]]
        line(t(note))
    heading(t("Summary"))
    line(
        f"{t('Rows')}: {view['rows_in']} → {view['rows_out']} "
        f"({t('suppressed')} {view['rows_suppressed']})"
    )
    line(
        f"{t('k-anonymity')}: {t('k asked')} {view['k_requested'] or '—'}, "
        f"{t('k achieved')} {view['k_achieved'] or '—'} "
        f"({t('quasi-identifiers')}: {', '.join(view['quasi_identifiers']) or '—'})"
    )
    line(
        f"{t('Residual personal data')}: "
        + (
            "; ".join(f"{r['name']} {r['entity']} {r['share']:.1%}" for r in view["residual"])
            or t("none found")
        )
    )
    heading(t("Re-identification risk"))
    bar_width = width - 75
    for label, before, after in view["measures"]:
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(70, 5, t(label))
        for value, colour in ((before, BEFORE), (after, AFTER)):
            pdf.set_fill_color(*_rgb(colour))
            pdf.rect(pdf.l_margin + 72, pdf.get_y() + 0.5, max(bar_width * value, 0.3), 3.5, "F")
            pdf.set_xy(pdf.l_margin + 72 + max(bar_width * value, 0.3) + 1, pdf.get_y())
            pdf.cell(20, 4.5, f"{value:.2%}")
            pdf.set_xy(pdf.l_margin + 70, pdf.get_y() + 4.5)
        pdf.ln(2)
    pdf.set_x(pdf.l_margin)
    line(f"■ {t('before the policy')} (red) · ■ {t('after the policy')} (green)")
    heading(t("What was found and what is done, per column"))
    widths = (38, 34, 28, width - 38 - 34 - 28 - 18, 18)
    headers = (t("Column"), t("Found"), t("Action"), t("What it does"), t("Type"))
    headings = FontFace(emphasis="", fill_color=(232, 238, 247))
    with pdf.table(
        col_widths=widths, text_align="LEFT", line_height=5, headings_style=headings
    ) as table:
        table.row(headers)
        for c in view["columns"]:
            found = f"{c['entity']} ({c['score']:.0%})" if c["entity"] else "—"
            action, effect, kind = c["action"], c["effect"], COLUMN_TYPES.get(c["type"], c["type"])
            table.row((c["name"], found, t(action), t(effect), t(kind)))
    return bytes(pdf.output())


# Text shown through ``t`` inside f-strings above, where the extractor does not look: marked here.
F_STRING_TEXT = (
    N_("Re-identification risk"),
    N_("before the policy"),
    N_("after the policy"),
    N_("Columns by action"),
    N_("Security assessment report"),
    N_("Dataset"),
    N_("Level"),
    N_("Made at"),
    N_("Source file"),
    N_("Rows"),
    N_("suppressed"),
    N_("k-anonymity"),
    N_("k asked"),
    N_("k achieved"),
    N_("quasi-identifiers"),
    N_("Residual personal data"),
)

LEVEL_NOTE = {
    "L3": N_(
        "L3: no record leaves the platform; grants get differentially private answers only. "
        "The figures show what the policy would leave in records."
    ),
    "L4": N_("L4: never opened. The figures show what the policy would leave in records."),
}


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
