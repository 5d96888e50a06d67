"""``Policy``: the Casbin enforcer over the database, asked by ``open_portal.permissions``."""

from __future__ import annotations

import ast
import functools
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import casbin
from casbin import util
from casbin.util.expression import SimpleEval
from sqlalchemy.engine import Engine

from policies.exceptions import AccessDenied
from policies.store import DatabaseAdapter

MODEL = Path(__file__).with_name("model.conf")
# Casbin changes its role links in place, so every policy in the process decides under one lock
# (decisions take microseconds).
_CASBIN = threading.RLock()
ANONYMOUS = ""


@functools.lru_cache(maxsize=4096)
def _parsed_matcher(matcher: str) -> ast.expr:
    """The matcher's syntax tree, parsed once per process.

    Casbin parses its matcher with ``ast.parse`` at every decision. CPython 3.11 before 3.11.8
    raises "AST constructor recursion depth mismatch" when another thread parses at the same
    time, and Python itself parses in any thread that formats a traceback (its error carets),
    so a logged error elsewhere could turn a decision into a server error.
    """
    python = re.sub(r"!(?!=)", "not ", matcher.replace("&&", "and").replace("||", "or"))
    node = ast.parse(python.strip()).body[0]
    assert isinstance(node, ast.Expr)
    return node.value


class _Enforcer(casbin.Enforcer):
    """Casbin's enforcer, evaluating each matcher from its tree parsed once: when the policy is
    loaded, one matcher per rule (the rule's condition put in, as Casbin's ``enforce`` does)."""

    def load_policy(self) -> None:
        super().load_policy()
        matcher = self.model["m"]["m"].value
        if not util.has_eval(matcher):
            self._get_expression(matcher)
            return
        tokens = self.model["p"]["p"].tokens
        for values in self.model["p"]["p"].policy:
            rule = dict(zip(tokens, values, strict=False))
            conditions = [
                util.escape_assertion(rule[name]) for name in util.get_eval_value(matcher)
            ]
            self._get_expression(util.replace_eval(matcher, conditions))

    @staticmethod
    def _get_expression(expr: str, functions: dict[str, Any] | None = None) -> SimpleEval:
        evaluator = SimpleEval("", functions)
        evaluator.expr = expr
        evaluator.ast_parsed_value = _parsed_matcher(expr)
        return evaluator


@dataclass(frozen=True)
class Subject:
    """Who asks: a user name (empty for anonymous)."""

    name: str = ANONYMOUS

    @property
    def is_anonymous(self) -> bool:
        return self.name == ANONYMOUS


@dataclass(frozen=True)
class Resource:
    """What is asked for: a kind (``application``), a domain and its attributes."""

    kind: str
    domain: str = "*"
    attrs: dict[str, Any] = field(default_factory=dict)


class Policy:
    """A Casbin enforcer over the database, reloaded when older than ``max_age`` seconds."""

    def __init__(self, engine: Engine, *, max_age: float = 2.0) -> None:
        self._lock = _CASBIN
        with self._lock:
            self._enforcer = _Enforcer(str(MODEL), DatabaseAdapter(engine))
        self._loaded = time.monotonic()
        self.max_age = max_age

    def reload(self) -> None:
        with self._lock:
            self._enforcer.load_policy()
            self._loaded = time.monotonic()

    def _fresh(self) -> casbin.Enforcer:
        if time.monotonic() - self._loaded > self.max_age:
            self.reload()
        return self._enforcer

    def can(self, subject: Subject, action: str, resource: Resource) -> bool:
        ctx = SimpleNamespace(**resource.attrs)
        enforcer = self._fresh()
        with self._lock:
            return bool(enforcer.enforce(subject.name, resource.domain, resource.kind, action, ctx))

    def check_can(self, subject: Subject, action: str, resource: Resource) -> None:
        if not self.can(subject, action, resource):
            raise AccessDenied(subject.name, action, resource.kind)

    def roles_of(self, user: str, domain: str = "*") -> list[str]:
        enforcer = self._fresh()
        with self._lock:
            roles = set(enforcer.get_roles_for_user_in_domain(user, domain))
            roles |= set(enforcer.get_roles_for_user_in_domain(user, "*"))
        return sorted(r.removeprefix("role:") for r in roles)

    def all_roles(self, user: str) -> list[str]:
        """Every role the user holds, in any domain (what the pages offer them)."""
        return sorted({role for role, _ in self.role_assignments(user)})

    def domains_of(self, user: str, role: str) -> list[str]:
        enforcer = self._fresh()
        with self._lock:
            rules = enforcer.get_filtered_grouping_policy(0, user, f"role:{role}")
        return sorted({r[2] for r in rules})

    def assign_role(self, user: str, role: str, domain: str = "*") -> None:
        with self._lock:
            self._enforcer.add_grouping_policy(user, f"role:{role}", domain)

    def remove_role(self, user: str, role: str, domain: str = "*") -> None:
        with self._lock:
            self._enforcer.remove_grouping_policy(user, f"role:{role}", domain)

    def users_with_role(self, role: str, domain: str = "*") -> list[str]:
        enforcer = self._fresh()
        with self._lock:
            return sorted(enforcer.get_users_for_role_in_domain(f"role:{role}", domain))

    def role_assignments(self, user: str) -> list[tuple[str, str]]:
        """(role, domain) pairs of a user."""
        enforcer = self._fresh()
        with self._lock:
            rules = enforcer.get_filtered_grouping_policy(0, user)
        return sorted((r[1].removeprefix("role:"), r[2]) for r in rules)
