"""Errors of the differential-privacy library: each says, in Chinese and English, what to change."""

from __future__ import annotations

from desensitize.exceptions import Error


class DPError(Error):
    """Base of every error ``desensitize.dp`` raises on purpose."""


class SchemaError(DPError):
    """The DP metadata a data owner declared is invalid, or the data does not match it."""


class QueryError(DPError):
    """A DP query was refused before anything was computed or spent."""
