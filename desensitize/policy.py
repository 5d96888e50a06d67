"""Desensitization policies: YAML, validated, one per dataset and level.

```yaml
dataset: hotline-2024
level: L2
columns:
  id_number: {action: pseudonymize}
  mobile: {action: mask, keep_first: 3, keep_last: 4}
  address: {action: generalize, address_to: district}
  age: {action: generalize, bins: [18, 30, 45, 60]}
  birth_date: {action: generalize, date_to: month}
  note: {action: redact}
  name: {action: drop}
  uscc: {action: keep}
k_anonymity: {k: 5, quasi_identifiers: [gender, age, address]}
```

Columns a policy does not name are kept, unless the scan found personal data in them: then the
policy must say what to do, ``keep`` included (:func:`validate_policy`).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal, Self, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from desensitize.config import settings
from desensitize.exceptions import PolicyError, UnknownColumnError, UnprotectedIdentifierError
from desensitize.scan import ColumnFinding, TableScan

Level = Literal["L1", "L2", "L3"]


class Action(StrEnum):
    """What happens to a column."""

    KEEP = "keep"
    DROP = "drop"
    MASK = "mask"
    PSEUDONYMIZE = "pseudonymize"
    GENERALIZE = "generalize"
    REDACT = "redact"


class ColumnRule(BaseModel):
    """The action for one column and its parameters."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    action: Action
    keep_first: int = Field(0, ge=0, description="mask: characters shown at the start")
    keep_last: int = Field(0, ge=0, description="mask: characters shown at the end")
    bins: list[float] | None = Field(None, description="generalize: numeric bin edges")
    date_to: Literal["month", "year"] | None = Field(None, description="generalize: date unit")
    address_to: Literal["district"] | None = Field(None, description="generalize: address level")
    pseudonymize_entities: bool = Field(
        False,
        description="redact: each entity in the text becomes <ENTITY_TYPE:pseudonym>, the "
        "grant's keyed pseudonym (as a column of that entity gets), instead of <ENTITY_TYPE>",
    )

    @model_validator(mode="after")
    def _parameters_fit_action(self) -> Self:
        if self.pseudonymize_entities and self.action != Action.REDACT:
            raise ValueError("pseudonymize_entities only goes with action redact")
        generalizers = [p for p in ("bins", "date_to", "address_to") if getattr(self, p)]
        if self.action == Action.GENERALIZE and len(generalizers) != 1:
            raise ValueError("generalize needs exactly one of bins, date_to, address_to")
        if self.action != Action.GENERALIZE and generalizers:
            raise ValueError(f"{', '.join(generalizers)} only go with action generalize")
        if self.action != Action.MASK and (self.keep_first or self.keep_last):
            raise ValueError("keep_first and keep_last only go with action mask")
        if self.bins is not None and (not self.bins or sorted(set(self.bins)) != self.bins):
            raise ValueError("bins must be increasing edges")
        return self


class KAnonymity(BaseModel):
    """Rows whose quasi-identifiers (after generalization) are shared by fewer than ``k`` rows are
    suppressed."""

    model_config = ConfigDict(extra="forbid")

    k: int = Field(ge=2)
    quasi_identifiers: list[str] = Field(min_length=1)


class Policy(BaseModel):
    """A validated desensitization policy."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = ""
    level: Level = "L2"
    columns: dict[str, ColumnRule] = Field(default_factory=dict)
    k_anonymity: KAnonymity | None = None

    @model_validator(mode="after")
    def _quasi_identifiers_kept(self) -> Self:
        if self.k_anonymity:
            for name in self.k_anonymity.quasi_identifiers:
                rule = self.columns.get(name)
                if rule and rule.action == Action.DROP:
                    raise ValueError(f"quasi-identifier {name!r} is dropped")
        return self

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "policy") -> Policy:
        """Parse and validate; :class:`PolicyError` names the rule that is wrong."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PolicyError(f"{source}: not YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise PolicyError(f"{source}: a policy is a mapping with a 'columns' key")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'policy'}: {e['msg']}"
                for e in exc.errors()
            )
            raise PolicyError(f"{source}: {problems}") from None

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["columns"] = {
            name: rule.model_dump(mode="json", exclude_defaults=True)
            | {"action": rule.action.value}
            for name, rule in self.columns.items()
        }
        data.setdefault("level", self.level)
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

    def rule(self, column: str) -> ColumnRule:
        return self.columns.get(column, ColumnRule(action=Action.KEEP))


def load_policy(path: Path) -> Policy:
    """The policy in a YAML file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc}") from None
    return Policy.from_yaml(text, source=str(path))


def validate_policy(policy: Policy, scan: TableScan, *, columns: list[str] | None = None) -> None:
    """Check ``policy`` against a table: every column it names exists, every column with personal
    data has a rule, and generalizations fit the column's values."""
    names = columns if columns is not None else [c.name for c in scan.columns]
    known = set(names)
    for name in policy.columns:
        if name not in known:
            raise UnknownColumnError(f"policy rule for unknown column {name!r}")
    for name in policy.k_anonymity.quasi_identifiers if policy.k_anonymity else []:
        if name not in known:
            raise UnknownColumnError(f"k_anonymity: unknown quasi-identifier column {name!r}")
    for finding in scan.identifiers:
        if finding.name not in policy.columns:
            raise UnprotectedIdentifierError(
                f"column {finding.name!r} holds {finding.entity} but the policy has no rule "
                "for it (write 'action: keep' to keep it as it is)"
            )
    for name, rule in policy.columns.items():
        found = scan.column(name)
        if found is None or rule.action != Action.GENERALIZE:
            continue
        if rule.bins and found.shape not in ("number", "empty"):
            raise PolicyError(f"column {name!r}: numeric bins on a {found.shape} column")
        if rule.date_to and found.shape not in ("date", "empty"):
            raise PolicyError(f"column {name!r}: date_to on a {found.shape} column")


# ---- the default policy ------------------------------------------------------------------------

DIRECT_IDENTIFIERS = {
    "CN_ID_CARD",
    "CN_MOBILE",
    "PHONE_NUMBER",
    "CN_BANK_CARD",
    "CN_PASSPORT",
    "CN_HKMO_PERMIT",
    "EMAIL_ADDRESS",
    "CN_LICENSE_PLATE",
    "PERSON",
}
QUASI_IDENTIFIER_NAMES = [
    "gender",
    "sex",
    "性别",
    "age",
    "年龄",
    "birth",
    "出生",
    "born",
    "dob",
    "district",
    "county",
    "区县",
    "区域",
    "zip",
    "postcode",
    "邮编",
    "nation",
    "民族",
    "occupation",
    "职业",
    "education",
    "学历",
    "marital",
    "婚姻",
]
AGE_BINS = [18.0, 30.0, 45.0, 60.0, 75.0]


def is_quasi_identifier(finding: ColumnFinding) -> bool:
    name = finding.name.lower()
    return finding.entity == "ADDRESS" or any(word in name for word in QUASI_IDENTIFIER_NAMES)


def _default_rule(finding: ColumnFinding, level: str) -> ColumnRule | None:
    public = level == "L1"
    if finding.free_text and finding.entity:
        return ColumnRule(action=Action.REDACT)
    if finding.entity == "CN_USCC":  # enterprise registration numbers are public records
        return ColumnRule(action=Action.KEEP)
    if finding.entity == "ADDRESS":
        return ColumnRule(action=Action.GENERALIZE, address_to="district")
    if finding.entity in DIRECT_IDENTIFIERS:
        return ColumnRule(action=Action.DROP if public else Action.PSEUDONYMIZE)
    if finding.entity:
        return ColumnRule(action=Action.REDACT)
    if public and is_quasi_identifier(finding):
        if finding.shape == "date":
            return ColumnRule(action=Action.GENERALIZE, date_to="year")
        if finding.shape == "number" and any(w in finding.name.lower() for w in ("age", "年龄")):
            return ColumnRule(action=Action.GENERALIZE, bins=AGE_BINS)
    if not public and finding.shape == "date" and is_quasi_identifier(finding):
        return ColumnRule(action=Action.GENERALIZE, date_to="month")
    return None


def default_policy(scan: TableScan, *, level: str = "L2") -> Policy:
    """A policy derived from a scan.

    L2 (record-level release to an approved requester): direct identifiers become keyed
    pseudonyms, addresses are cut to the district, birth dates to the month, free text is
    redacted. L1 (public): direct identifiers are dropped, dates cut to the year and ages binned,
    and k-anonymity (k from the settings) holds over the quasi-identifiers.
    """
    if level not in ("L1", "L2", "L3"):
        raise PolicyError(f"unknown level {level!r}: use L1, L2 or L3")
    columns: dict[str, ColumnRule] = {}
    for finding in scan.columns:
        rule = _default_rule(finding, level)
        if rule is not None:
            columns[finding.name] = rule
    k_anonymity = None
    if level == "L1":
        kept = {n for n, rule in columns.items() if rule.action != Action.DROP}
        quasi = [
            f.name
            for f in scan.columns
            if is_quasi_identifier(f) and (f.name in kept or f.name not in columns)
        ]
        if quasi:
            k_anonymity = KAnonymity(k=settings().default_k, quasi_identifiers=quasi)
    return Policy(level=cast(Level, level), columns=columns, k_anonymity=k_anonymity)
