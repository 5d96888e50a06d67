"""Intake that sees every byte: what is held is what was checked is what is shown.

Each test hides data where a reader of the parsed file would not look (after the end of a PNG,
in EXIF, in notebook metadata or an unshown output type, in a PDF attachment or script, in a JSON
key) and checks that it is removed before checks and review, refused, or found.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from unit.exports.export_helpers import make_grant, outbox
from unit.exports.test_checks import failing, minimal_pdf

from open_portal.checks.normalize import normalize
from open_portal.exceptions import InvalidInput
from open_portal.models import ExportRequest
from open_portal.previews import PREVIEW_BYTES, PREVIEW_ROWS, notebook_html, render_preview
from open_portal.service import exports
from open_portal.service.context import Portal

SECRET = "13812345678"


def png(**save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, format="PNG", **save)  # type: ignore[arg-type]
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (8, 8), (10, 120, 30))
    exif = Image.Exif()
    exif[0x010E] = f"caller {SECRET}"  # ImageDescription
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=SECRET.encode())
    return out.getvalue()


def test_bytes_after_the_end_of_a_png_are_dropped() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", f"caller {SECRET}")
    hidden = png(pnginfo=info) + f"trailing {SECRET}".encode()
    held = normalize("f.png", "png", hidden).data
    assert SECRET.encode() not in held and held.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(held)) as image:
        assert image.size == (4, 3) and image.getpixel((0, 0)) == (200, 30, 30)


def test_exif_and_comments_of_a_jpeg_are_dropped() -> None:
    taken = jpeg_with_exif()
    assert SECRET.encode() in taken
    held = normalize("f.jpg", "jpeg", taken).data
    assert SECRET.encode() not in held
    with Image.open(io.BytesIO(held)) as image:
        assert image.size == (8, 8) and not image.getexif()


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"not an image"])
def test_an_image_that_does_not_decode_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="not an image"):
        normalize("f.png", "png", data)


def hiding_notebook() -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.metadata["secret"] = SECRET
    cell = nbformat.v4.new_code_cell("show()")
    cell.metadata["tags"] = [SECRET]
    pixel = base64.b64encode(png() + SECRET.encode()).decode()
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/plain": "<Figure>",
                "text/html": "<b>表</b>",
                "image/png": pixel,
                "application/vnd.custom+json": {"caller": SECRET},
            },
            metadata={"note": SECRET},
        )
    ]
    markdown = nbformat.v4.new_markdown_cell("![x](attachment:x.png)")
    markdown["attachments"] = {"x.png": {"image/png": base64.b64encode(SECRET.encode()).decode()}}
    nb.cells = [cell, markdown]
    return nbformat.writes(nb).encode()


def test_a_notebook_keeps_only_what_the_preview_shows() -> None:
    normal = normalize("a.ipynb", "notebook", hiding_notebook())
    assert SECRET.encode() not in normal.data
    assert {"notebook metadata", "cell metadata", "cell attachments"} <= set(normal.removed)
    assert "output application/vnd.custom+json" in normal.removed
    kept = nbformat.reads(normal.data.decode(), as_version=4)
    nbformat.validate(kept)
    shown = notebook_html(normal.data)
    assert "&lt;b&gt;表&lt;/b&gt;" in shown and "text/html" in shown and "&lt;Figure&gt;" in shown
    held_png = base64.b64decode(kept.cells[0].outputs[0]["data"]["image/png"])
    assert held_png.startswith(b"\x89PNG") and SECRET.encode() not in held_png
    assert f"data:image/png;base64,{kept.cells[0].outputs[0]['data']['image/png']}" in shown


def test_every_kept_output_type_is_shown() -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={"text/latex": "$x_1$", "text/markdown": "**m**", "application/json": {"k": 1}},
            execution_count=1,
        ),
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad 7", traceback=["tb"]),
        nbformat.v4.new_output("stream", name="stderr", text="warn"),
    ]
    nb.cells = [cell]
    held = normalize("b.ipynb", "notebook", nbformat.writes(nb).encode()).data
    shown = notebook_html(held)
    for text in ("$x_1$", "**m**", "&quot;k&quot;: 1", "ValueError: bad 7", "tb", "warn"):
        assert text in shown, text


def pdf_with(js: bool = False, attachment: bool = False) -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(minimal_pdf("Table 1"))))
    if js:
        writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('x');"),
            }
        )
    if attachment:
        writer.add_attachment("callers.csv", f"phone\n{SECRET}\n".encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("js", "attachment"), [(True, False), (False, True)])
def test_a_pdf_with_scripts_or_embedded_files_is_refused(js: bool, attachment: bool) -> None:
    with pytest.raises(InvalidInput, match="embedded files, scripts"):
        normalize("r.pdf", "pdf", pdf_with(js=js, attachment=attachment))


def test_a_plain_pdf_is_rewritten_without_what_follows_it() -> None:
    taken = pdf_with() + f"\n% {SECRET}\n".encode()
    held = normalize("r.pdf", "pdf", taken).data
    assert SECRET.encode() not in held
    assert "Table 1" in PdfReader(io.BytesIO(held)).pages[0].extract_text()


def test_personal_data_in_json_keys_is_found_in_the_raw_bytes() -> None:
    found = failing("k.json", json.dumps({SECRET: 1}).encode())
    assert found["personal_data"]["entities"] == {"CN_MOBILE": 1}


def test_previews_say_when_they_are_cut_and_link_to_the_whole_file() -> None:
    long_text = ("x" * 99 + "\n").encode() * (PREVIEW_BYTES // 100 + 10)
    shown = render_preview("text", long_text, "/f/9")
    assert "Showing" in shown and "仅显示" in shown and 'href="/f/9"' in shown
    table = ("a,b\n" + "".join(f"{i},1\n" for i in range(PREVIEW_ROWS + 5))).encode()
    assert 'href="/f/9"' in render_preview("csv", table, "/f/9")
    assert "Showing" not in render_preview("text", b"short", "/f/9")
    assert "Showing" not in render_preview("csv", b"a,b\n1,2\n", "/f/9")


def test_what_is_held_is_what_was_checked_is_what_is_shown(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    box = outbox(tmp_path, grant_id)
    (box / "fig.png").write_bytes(png() + f"\n{SECRET}\n".encode())
    (box / "nb.ipynb").write_bytes(hiding_notebook())
    request = exports.request_export(
        portal,
        actor="researcher",
        grant_id=grant_id,
        files=["fig.png", "nb.ipynb"],
        justification="图",
        controls="无",
    )
    with portal.sessions() as session:
        item = session.get(ExportRequest, request.id)
        assert item is not None
        files = [(f.id, f.sha256, f.size, f.checks) for f in item.files]
    for _, _, _, checks in files:
        assert checks[0]["check"] == "intake" and checks[0]["details"]["removed"]
        assert not [c for c in checks if not c["passed"]], checks
    exports.submit(portal, actor="researcher", request_id=request.id)
    for fid, sha, size, _ in files:
        file, data = exports.file_content(
            portal, actor="officer", request_id=request.id, file_id=fid
        )
        assert SECRET.encode() not in data
        assert (file.sha256, file.size) == (sha, size)


def test_a_pdf_with_an_attachment_is_refused_at_request(portal: Portal, tmp_path: Path) -> None:
    grant_id = make_grant(portal)
    (outbox(tmp_path, grant_id) / "r.pdf").write_bytes(pdf_with(attachment=True))
    with pytest.raises(InvalidInput):
        exports.request_export(portal, actor="researcher", grant_id=grant_id, files=["r.pdf"])
    with portal.sessions() as session:
        assert session.query(ExportRequest).count() == 0  # nothing half-written


@pytest.mark.parametrize("kind", ["csv", "text", "markdown", "json", "html", "svg"])
def test_characters_shown_as_nothing_are_removed_from_text(kind: str) -> None:
    from open_portal.checks.normalize import normalize

    hidden = "".join(chr(0xE0000 + ord(c)) for c in "330106") + "\u200b\u202e\ue000"
    out = normalize(f"f.{kind}", kind, f"\ufeff区,人数\n西湖区{hidden},95\n".encode())
    assert out.data == "\ufeff区,人数\n西湖区,95\n".encode()
    assert out.removed == ["9 invisible characters"]
