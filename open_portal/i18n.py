"""Simplified Chinese and English for every page and message.

Text is written in English in the code and templates, marked ``t("...")`` in templates and
``N_("...")`` in Python; the message catalogs (``open_portal/locale``, gettext PO files kept
with Babel: ``scripts/messages.sh`` extracts and merges) give its Chinese. They are read at
import, so nothing is compiled. Chinese is the default language; the language switch sets a
cookie.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.messages.pofile import read_po

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
LOCALES = {"zh": "zh_CN", "en": "en"}
LOCALE_DIR = Path(__file__).with_name("locale")
LANG_COOKIE = "pds-lang"
ZONE_COOKIE = "pds-tz"
DEFAULT_ZONE = "Asia/Shanghai"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """The translations of ``lang``'s message catalog (``locale/<locale>/LC_MESSAGES/messages.po``),
    read once; an empty translation means the English text is kept."""
    path = LOCALE_DIR / LOCALES[lang] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        messages = read_po(source, locale=LOCALES[lang])
    return {
        str(m.id): str(m.string)
        for m in messages
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


ZH = catalog("zh")


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs; it is translated where it is shown."""
    return text


def translator(lang: str) -> Callable[[str], str]:
    """``t(text)``: the text in ``lang`` (English text is the key)."""
    messages = catalog(lang if lang in LOCALES else DEFAULT)
    return lambda text: messages.get(text) or text


def pick_zone(cookie: str | None) -> ZoneInfo:
    """The user's time zone (the browser reports it in a cookie), else China Standard Time."""
    if cookie and len(cookie) <= 64:
        try:
            return ZoneInfo(cookie)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(DEFAULT_ZONE)


def local_time(value: datetime, zone: ZoneInfo) -> datetime:
    """``value`` (naive values are UTC, as stored) in ``zone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone)


def pick_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    if accept and accept.lower().startswith("en"):
        return "en"
    return DEFAULT


def message(error: Exception, lang: str) -> str:
    """An error's message in the user's language."""
    if lang == "zh":
        return str(getattr(error, "message_zh", None) or ZH.get(str(error), str(error)))
    return str(error)
