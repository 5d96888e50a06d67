"""Validated input of the service layer (what forms and API bodies are parsed into)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from open_portal.models import ApplicantKind, Level

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

# Every free-text field has one of these limits; past it the input is refused with a 422.
NAME_MAX = 64  # user names, ids, roles, codes, short choices
LINE_MAX = 256  # titles, organisation names, keywords, search terms, next-URLs
TEXT_MAX = 4000  # justifications, descriptions, comments, reasons
DOCUMENT_MAX = 64 * 1024  # a desensitization policy (YAML)
LIST_MAX = 50  # items of a list field (datasets, team members, keywords, columns)
Name = Annotated[str, Field(max_length=NAME_MAX)]
Line = Annotated[str, Field(max_length=LINE_MAX)]
Text = Annotated[str, Field(max_length=TEXT_MAX)]


class ColumnMeta(BaseModel):
    name: Line
    description_zh: Text = ""
    description_en: Text = ""
    type: Literal["string", "integer", "float", "date", "datetime"] = "string"


class DatasetMeta(BaseModel):
    """The DCAT-AP description a data owner gives when publishing."""

    id: Name
    title_zh: str = Field(min_length=1, max_length=LINE_MAX)
    title_en: str = Field(min_length=1, max_length=LINE_MAX)
    description_zh: Text = ""
    description_en: Text = ""
    publisher: str = Field(min_length=1, max_length=NAME_MAX)
    publisher_name_zh: Line = ""
    publisher_name_en: Line = ""
    keywords: list[Line] = Field([], max_length=LIST_MAX)
    theme: Line = ""
    temporal_coverage: Line = ""
    spatial_coverage: Line = ""
    update_frequency: Line = ""
    licence: Line = "CC-BY-4.0"
    contact: Line = ""
    level: Level
    columns: list[ColumnMeta] = Field([], max_length=1000)
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
    dataset_ids: list[Name] = Field(min_length=1, max_length=LIST_MAX)
    purpose: str = Field(min_length=1, max_length=TEXT_MAX)
    project_description: Text = ""
    products: Text = ""
    team_members: list[Name] = Field([], max_length=LIST_MAX)
    # the lowest level asked for every dataset; by default each dataset at its own level.
    # L3 for an L2 dataset asks for its differentially private answers only.
    level: Level | None = None
    starts_on: date
    ends_on: date
    epsilon: str = Field("0", max_length=32)
    organisation: Line = ""
    organisation_uscc: str = Field("", max_length=32)
    agreement_accepted: bool = False
    commitment_accepted: bool = False

    @field_validator("epsilon")
    @classmethod
    def _epsilon(cls, value: str) -> str:
        try:
            eps = Decimal(value or "0")
        except InvalidOperation:
            raise ValueError("隐私预算 ε 须为数字 / epsilon must be a decimal number") from None
        if not eps.is_finite() or eps < 0 or eps > 100:
            raise ValueError("隐私预算 ε 须在 0 到 100 之间 / epsilon must be between 0 and 100")
        return str(eps)

    @model_validator(mode="after")
    def _consistent(self) -> ApplicationInput:
        if self.ends_on <= self.starts_on:
            raise ValueError("结束日期须晚于开始日期 / the end of the term must be after its start")
        if self.level == Level.L4:
            raise ValueError("level L4 data can never be requested")
        if self.level == Level.L1:
            raise ValueError("level L1 data is open for download: no application is needed")
        if self.kind == ApplicantKind.ORGANISATION:
            if not self.organisation.strip():
                raise ValueError(
                    "以单位名义申请须填写单位名称 / an operator applies as an organisation: give its name"
                )
            if not check_uscc(self.organisation_uscc):
                raise ValueError(
                    "统一社会信用代码无效（GB 32100） / the unified social credit code is not valid (GB 32100)"
                )
            self.organisation_uscc = self.organisation_uscc.strip().upper()
        self.team_members = sorted({m.strip() for m in self.team_members if m.strip()})
        return self


class CommentInput(BaseModel):
    """A decision's comment (``POST /api/applications/{id}/{action}``)."""

    comment: Text = ""


class ReasonInput(BaseModel):
    """Why a grant's status changes (``POST /api/grants/{id}/{action}``)."""

    reason: Text = ""
