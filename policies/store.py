"""The Casbin policy kept in the database: a table and a Casbin adapter over it.

Admins change roles and rules in the database; every process reloads them without a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from casbin import persist
from casbin.model import Model
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert, select
from sqlalchemy.engine import Engine

metadata = MetaData()

casbin_rules = Table(
    "casbin_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ptype", String(8), nullable=False),
    Column("v0", String(256), nullable=False, default=""),
    Column("v1", String(256), nullable=False, default=""),
    Column("v2", String(256), nullable=False, default=""),
    Column("v3", String(256), nullable=False, default=""),
    Column("v4", String(512), nullable=False, default=""),
    Column("v5", String(256), nullable=False, default=""),
)

DEFAULT_POLICY = Path(__file__).with_name("default_policy.csv")
FIELDS = ("v0", "v1", "v2", "v3", "v4", "v5")


def read_policy_csv(path: Path = DEFAULT_POLICY) -> list[list[str]]:
    """Lines of a policy file, comments and blanks skipped, fields trimmed."""
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            rules.append([field.strip() for field in line.split(",")])
    return rules


def _row(rule: Sequence[str]) -> dict[str, str]:
    values = list(rule[1:]) + [""] * (len(FIELDS) - len(rule) + 1)
    return {"ptype": rule[0], **dict(zip(FIELDS, values, strict=True))}


class DatabaseAdapter(persist.Adapter):
    """Loads and saves Casbin rules from the ``casbin_rules`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load_policy(self, model: Model) -> None:
        with self.engine.connect() as conn:
            for row in conn.execute(select(casbin_rules).order_by(casbin_rules.c.id)):
                values = [row.ptype] + [getattr(row, f) for f in FIELDS]
                while values and values[-1] == "":
                    values.pop()
                persist.load_policy_line(", ".join(values), model)

    def save_policy(self, model: Model) -> bool:
        rules: list[list[str]] = []
        for sec in ("p", "g"):
            for ptype, ast in model.model.get(sec, {}).items():
                rules.extend([ptype, *r] for r in ast.policy)
        replace_rules(self.engine, rules)
        return True

    def add_policy(self, sec: str, ptype: str, rule: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(casbin_rules).values(**_row([ptype, *rule])))

    def remove_policy(self, sec: str, ptype: str, rule: list[str]) -> None:
        row = _row([ptype, *rule])
        with self.engine.begin() as conn:
            conn.execute(
                delete(casbin_rules).where(*(casbin_rules.c[k] == v for k, v in row.items()))
            )

    def remove_filtered_policy(self, sec: str, ptype: str, field_index: int, *values: Any) -> None:
        conditions = [casbin_rules.c.ptype == ptype]
        for offset, value in enumerate(values):
            if value:
                conditions.append(casbin_rules.c[FIELDS[field_index + offset]] == value)
        with self.engine.begin() as conn:
            conn.execute(delete(casbin_rules).where(*conditions))


def replace_rules(engine: Engine, rules: Iterable[Sequence[str]]) -> None:
    """Replace every stored rule, in one transaction."""
    with engine.begin() as conn:
        conn.execute(delete(casbin_rules))
        rows = [_row(r) for r in rules]
        if rows:
            conn.execute(insert(casbin_rules), rows)


def seed_default_policy(engine: Engine) -> int:
    """Store the shipped ``p`` rules, keeping the ``g`` (role) lines already there."""
    with engine.connect() as conn:
        roles = [
            [row.ptype, *(getattr(row, f) for f in FIELDS)]
            for row in conn.execute(select(casbin_rules).where(casbin_rules.c.ptype == "g"))
        ]
    rules = read_policy_csv()
    replace_rules(engine, [*rules, *([v for v in r if v] for r in roles)])
    return len(rules)
