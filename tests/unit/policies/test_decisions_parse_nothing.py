"""A decision parses no Python: the matcher's tree is parsed once, when the policy is made.

CPython 3.11 before 3.11.8 fails an ``ast.parse`` with a ``SystemError`` when another thread
parses at the same time, and every thread that formats a traceback parses (its error carets).
Casbin parsed its matcher at every decision, so an error logged by a background job could turn
a concurrent catalog request into a server error.
"""

from __future__ import annotations

import ast
import threading
import traceback
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from open_portal import permissions
from policies import Policy, Resource, Subject
from policies.store import metadata, seed_default_policy

PUBLISHED_L1 = Resource("catalog", attrs={"level": "L1", "published": True})
HIDDEN_L4 = Resource("catalog", attrs={"level": "L4", "published": True})


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    engine = create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    metadata.create_all(engine)
    seed_default_policy(engine)
    made = Policy(engine, max_age=0)  # reloads at every decision
    made.assign_role("olga", "officer")
    return made


def test_decisions_and_reloads_call_no_parser(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real_parse = ast.parse

    def counting_parse(source: Any, *args: Any, **kwargs: Any) -> Any:
        parsed.append(str(source))
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting_parse)
    for _ in range(50):
        assert policy.can(Subject(), "read", PUBLISHED_L1)
        assert not policy.can(Subject(), "read", HIDDEN_L4)
        assert permissions.can_read_audit(policy, "olga")
        assert not permissions.can_read_audit(policy, "mallory")
    assert parsed == []


def test_decisions_hold_while_another_thread_formats_tracebacks(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    metadata.create_all(engine)
    seed_default_policy(engine)
    policy = Policy(engine)
    stop = threading.Event()
    formatted: list[int] = []

    def log_errors() -> None:
        while not stop.is_set():
            try:
                {"a": [1]}["a"][2] + len(str(object()))
            except IndexError:
                formatted.append(len(traceback.format_exc()))

    other = threading.Thread(target=log_errors)
    other.start()
    try:
        answers = {policy.can(Subject(), "read", PUBLISHED_L1) for _ in range(300)}
    finally:
        stop.set()
        other.join()
    assert answers == {True}
    assert formatted  # the other thread really was formatting
