"""Settings of the ``desensitize`` package (environment variables ``PDS_DESENSITIZE_*``)."""

from __future__ import annotations

import functools

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DesensitizeSettings(BaseSettings):
    """How tables are scanned and processed."""

    model_config = SettingsConfigDict(env_prefix="PDS_DESENSITIZE_")

    sample_rows: int = Field(500, ge=1, description="rows sampled when a table is scanned")
    min_share: float = Field(
        0.5, gt=0, le=1, description="share of sampled values that must match to type a column"
    )
    text_min_share: float = Field(
        0.05, gt=0, le=1, description="share of free-text cells with personal data to flag them"
    )
    name_model: bool = Field(
        True,
        description="find person names in free text with the LAC model as well as the rules",
    )
    default_k: int = Field(5, ge=2, description="k of k-anonymity in default L1 policies")
    batch_rows: int = Field(50_000, ge=1_000, description="rows per batch when streaming")
    min_key_bytes: int = Field(16, ge=16, description="shortest accepted pseudonymization key")


@functools.cache
def settings() -> DesensitizeSettings:
    """The settings, read once from the environment."""
    return DesensitizeSettings()
