"""Path parameters typed with their real range, so a malformed id is a 422, never a 5xx.

Row ids are ``INTEGER`` columns (32-bit on PostgreSQL); dataset ids are slugs (``schemas.SLUG``);
grant ids are ``g`` and the zero-padded id of the application that created them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

#: The largest value of an ``INTEGER`` column on every supported database.
MAX_ROW_ID = 2**31 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
DatasetId = Annotated[str, Path(min_length=2, max_length=63, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
GrantId = Annotated[str, Path(min_length=5, max_length=11, pattern=r"^g[0-9]{4,10}$")]
#: A name of an action or a group in a path: short, ASCII, no separators.
Word = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
