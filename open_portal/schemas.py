"""Validated input of the service layer (what forms and API bodies are parsed into)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from open_portal.models import ApplicantKind, Level

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class ColumnMeta(BaseModel):
    name: str
    description_zh: str = ""
    description_en: str = ""


class DatasetMeta(BaseModel):
    """The DCAT-AP description a data owner gives when publishing."""

    id: str
    title_zh: str = Field(min_length=1, max_length=256)
    title_en: str = Field(min_length=1, max_length=256)
    description_zh: str = ""
    description_en: str = ""
    publisher: str = Field(min_length=1, max_length=64)
    publisher_name_zh: str = ""
    publisher_name_en: str = ""
    keywords: list[str] = []
    theme: str = ""
    temporal_coverage: str = ""
    spatial_coverage: str = ""
    update_frequency: str = ""
    licence: str = "CC-BY-4.0"
    contact: str = ""
    level: Level
    columns: list[ColumnMeta] = []
    dp_schema: dict[str, Any] = {}

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("dataset id must be 2-63 lowercase letters, digits or dashes")
        return value


def check_uscc(code: str) -> bool:
    """GB 32100-2015: 18 characters, the last a MOD 31 check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    code = code.strip().upper()
    if len(code) != 18 or any(c not in alphabet for c in code):
        return False
    total = sum(alphabet.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return alphabet[(31 - total % 31) % 31] == code[17]


class ApplicationInput(BaseModel):
    """What a requester fills in; the state is set by the service, never by the form."""

    kind: ApplicantKind
    dataset_ids: list[str] = Field(min_length=1)
    purpose: str = Field(min_length=1, max_length=4000)
    project_description: str = ""
    products: str = ""
    team_members: list[str] = []
    level: Level
    starts_on: date
    ends_on: date
    epsilon: str = "0"
    organisation: str = ""
    organisation_uscc: str = ""
    agreement_accepted: bool = False
    commitment_accepted: bool = False

    @field_validator("epsilon")
    @classmethod
    def _epsilon(cls, value: str) -> str:
        try:
            eps = Decimal(value or "0")
        except InvalidOperation:
            raise ValueError("epsilon must be a decimal number") from None
        if not eps.is_finite() or eps < 0 or eps > 100:
            raise ValueError("epsilon must be between 0 and 100")
        return str(eps)

    @model_validator(mode="after")
    def _consistent(self) -> ApplicationInput:
        if self.ends_on <= self.starts_on:
            raise ValueError("the end of the term must be after its start")
        if self.level == Level.L4:
            raise ValueError("level L4 data can never be requested")
        if self.level == Level.L1:
            raise ValueError("level L1 data is open for download: no application is needed")
        if self.kind == ApplicantKind.ORGANISATION:
            if not self.organisation.strip():
                raise ValueError("an operator applies as an organisation: give its name")
            if not check_uscc(self.organisation_uscc):
                raise ValueError("the unified social credit code is not valid (GB 32100)")
            self.organisation_uscc = self.organisation_uscc.strip().upper()
        self.team_members = sorted({m.strip() for m in self.team_members if m.strip()})
        return self
