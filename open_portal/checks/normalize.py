"""Make a file proposed for export into what its reviewers can see, before it is checked and held.

What is held is what was checked is what is shown: a byte the preview does not show is either
removed here or the file is refused.

- PNG and JPEG are decoded and re-encoded by Pillow: trailing bytes, text chunks, EXIF, XMP and
  ICC profiles, thumbnails and extra frames are gone; an image that does not decode, or decodes
  to more than ``MAX_PIXELS``, is refused.
- Notebooks keep only what the preview shows (``SHOWN_OUTPUTS``: sources, stream text,
  errors, text and JSON outputs shown as text, PNG and JPEG outputs re-encoded); every other
  output type, every cell and notebook metadata field, attachments and cell ids are stripped.
- PDFs with embedded files, JavaScript, forms or actions (``REFUSED_PDF_NAMES``) are refused; the
  rest is rewritten page by page (document metadata, unreferenced objects, incremental updates
  and trailing bytes dropped).
- Text of every kind (tables, text, Markdown, JSON, HTML, SVG, notebooks) loses the characters a
  browser draws as nothing (Unicode format, private-use, surrogate and unassigned code points:
  tag characters, zero-width and direction marks), which could carry data past a reviewer's eye;
  a leading byte-order mark stays.
- Other kinds are held as they are: they are text, shown as text (HTML and SVG are shown both
  rendered and as their source).
"""

from __future__ import annotations

import base64
import io
import unicodedata
import warnings
from dataclasses import dataclass, field
from typing import Any

from open_portal.exceptions import InvalidInput

MAX_PIXELS = 50_000_000
# format (tag characters, zero-width, direction marks), private use, surrogates, unassigned
INVISIBLE = {"Cf", "Co", "Cs", "Cn"}
TEXT_KINDS = {"csv", "svg", "html", "text", "json", "markdown"}
SHOWN_OUTPUTS = (
    "text/plain",
    "text/markdown",
    "text/html",
    "text/latex",
    "application/json",
    "image/png",
    "image/jpeg",
)
SHOWN_IMAGES = {"image/png": "PNG", "image/jpeg": "JPEG"}
REFUSED_PDF_NAMES = {
    "/JS",
    "/JavaScript",
    "/OpenAction",
    "/AA",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/FileAttachment",
    "/Filespec",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/ResetForm",
    "/GoToR",
    "/GoToE",
    "/URI",
    "/RichMedia",
    "/Movie",
    "/Sound",
    "/XFA",
    "/AcroForm",
}


@dataclass
class Normalized:
    """The bytes to check, hold and show, and what was removed to get them."""

    data: bytes
    removed: list[str] = field(default_factory=list)


def normalize(name: str, kind: str, data: bytes) -> Normalized:
    """``data`` as reviewers will see it, or ``InvalidInput`` when it cannot be shown safely."""
    if kind in ("png", "jpeg"):
        out = reencode_image(name, data, "PNG" if kind == "png" else "JPEG")
        return Normalized(out, ["everything but the pixels (re-encoded)"])
    if kind == "notebook":
        notebook = strip_notebook(name, data)
        visible = strip_invisible(notebook.data)
        return Normalized(visible.data, sorted({*notebook.removed, *visible.removed}))
    if kind == "pdf":
        return rewrite_pdf(name, data)
    if kind in TEXT_KINDS:
        return strip_invisible(data)
    return Normalized(data)


def strip_invisible(data: bytes) -> Normalized:
    """UTF-8 text without the characters that show as nothing (``INVISIBLE`` categories), a
    leading byte-order mark kept. Bytes that are not UTF-8 are left to the file-type check."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return Normalized(data)
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    kept = "".join(c for c in body if unicodedata.category(c) not in INVISIBLE)
    if len(kept) == len(body):
        return Normalized(data)
    count = len(body) - len(kept)
    return Normalized((bom + kept).encode(), [f"{count} invisible characters"])


def reencode_image(name: str, data: bytes, format: str) -> bytes:
    """Decode and encode again: only the pixels are kept."""
    from PIL import Image

    refused = InvalidInput(
        f"{name} is not an image that can be shown", zh=f"{name} 不是可以展示的图片"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[format]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise refused
                image.load()
                pixels = image.copy()
                # only the pixels: text chunks, EXIF, comments, ICC profiles are left behind
                kept: dict[str | tuple[int, int], Any] = {
                    k: v for k, v in image.info.items() if k == "transparency"
                }
                pixels.info = kept
    except InvalidInput:
        raise
    except Exception as exc:  # Pillow raises many kinds on broken or hostile input
        raise refused from exc
    if format == "JPEG" and pixels.mode not in ("L", "RGB", "CMYK"):
        pixels = pixels.convert("RGB")
    if format == "PNG" and pixels.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        pixels = pixels.convert("RGBA")
    out = io.BytesIO()
    if format == "JPEG":
        pixels.save(out, format="JPEG", quality=95)
    else:
        pixels.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def strip_notebook(name: str, data: bytes) -> Normalized:
    """A notebook holding only what the preview shows."""
    import json

    import nbformat

    try:
        notebook = nbformat.reads(data.decode("utf-8-sig"), as_version=4)
    except Exception as exc:
        raise InvalidInput(
            f"{name} is not a notebook that can be read", zh=f"{name} 不是可读取的 notebook"
        ) from exc
    removed: set[str] = set()
    cells: list[Any] = []
    if notebook.get("metadata"):
        removed.add("notebook metadata")
    for cell in notebook.get("cells", []):
        if cell.get("metadata"):
            removed.add("cell metadata")
        if cell.get("attachments"):
            removed.add("cell attachments")
        source = _text(cell.get("source"))
        kind = cell.get("cell_type")
        if kind == "code":
            new = nbformat.v4.new_code_cell(source)
            new.outputs = [
                o for o in (_output(name, o, removed) for o in cell.get("outputs", [])) if o
            ]
        elif kind == "markdown":
            new = nbformat.v4.new_markdown_cell(source)
        else:
            new = nbformat.v4.new_raw_cell(source)
        new.id = f"cell-{len(cells) + 1}"
        cells.append(new)
    clean = nbformat.v4.new_notebook(cells=cells)
    out = nbformat.writes(clean).encode()
    json.loads(out)  # what is held parses
    return Normalized(out, sorted(removed)[:20])


def _output(name: str, output: Any, removed: set[str]) -> Any:
    import nbformat

    kind = output.get("output_type")
    if kind == "stream":
        stream = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=stream, text=_text(output.get("text")))
    if kind == "error":
        return nbformat.v4.new_output(
            "error",
            ename=str(output.get("ename", "")),
            evalue=str(output.get("evalue", "")),
            traceback=[str(line) for line in output.get("traceback", []) or []],
        )
    if kind not in ("display_data", "execute_result"):
        removed.add(f"output type {str(kind)[:80]}")
        return None
    kept: dict[str, Any] = {}
    for media_type, value in (output.get("data") or {}).items():
        if media_type not in SHOWN_OUTPUTS:
            removed.add(f"output {media_type[:80]}")
            continue
        if media_type in SHOWN_IMAGES:
            raw = base64.b64decode(_text(value).replace("\n", ""), validate=False)
            image = reencode_image(name, raw, SHOWN_IMAGES[media_type])
            kept[media_type] = base64.b64encode(image).decode()
        elif media_type == "application/json":
            kept[media_type] = value
        else:
            kept[media_type] = _text(value)
    if output.get("metadata"):
        removed.add("output metadata")
    if not kept:
        return None
    if kind == "execute_result":
        return nbformat.v4.new_output("execute_result", data=kept, execution_count=None)
    return nbformat.v4.new_output("display_data", data=kept)


def rewrite_pdf(name: str, data: bytes) -> Normalized:
    """Refuse active or embedded content; otherwise the pages alone, written anew."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    unreadable = InvalidInput(
        f"{name} is not a PDF that can be read", zh=f"{name} 不是可读取的 PDF"
    )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise unreadable
        found = _refused_names(reader)
    except InvalidInput:
        raise
    except Exception as exc:
        raise unreadable from exc
    if found:
        listed = ", ".join(sorted(found))
        raise InvalidInput(
            f"{name} holds embedded files, scripts, forms or actions ({listed}): export the "
            "document without them",
            zh=f"{name} 含有嵌入文件、脚本、表单或动作（{listed}），请导出不含这些内容的文档",
        )
    try:
        writer = PdfWriter()
        for page in reader.pages:
            added = writer.add_page(page)
            for key in ("/Metadata", "/PieceInfo", "/Annots"):
                if NameObject(key) in added:
                    del added[NameObject(key)]
        out = io.BytesIO()
        writer.write(out)
    except Exception as exc:
        raise unreadable from exc
    return Normalized(out.getvalue(), ["document metadata and unreferenced objects"])


def _refused_names(reader: Any) -> set[str]:
    """Every refused name used as a key or a value anywhere in the file's objects."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    found: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = [reader.trailer]
    size = int(reader.trailer.get("/Size", 0))
    for number in range(1, min(size, 1_000_000)):
        try:
            stack.append(reader.get_object(number))
        except Exception:
            continue
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
            try:
                item = item.get_object()
            except Exception:
                continue
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if key in REFUSED_PDF_NAMES:
                    found.add(str(key))
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
        elif isinstance(item, NameObject) and item in REFUSED_PDF_NAMES:
            found.add(str(item))
    return found
