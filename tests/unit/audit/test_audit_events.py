"""Audit events: canonical JSON (RFC 8785) is the leaf, and it round-trips exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.events import AuditEvent, canonical_json, es6_number
from audit.exceptions import EventError

# No deadlines: these run on a shared machine, and timing is not the property under test.
WHEN = datetime(2026, 11, 26, 8, 30, 0, 123456, tzinfo=UTC)


def test_canonical_json_of_an_event() -> None:
    event = AuditEvent(
        type="export.approved",
        actor="officer-li",
        subject="export:7",
        object="dataset:hotline-tickets",
        details={"b": [1, "二"], "a": {"z": None, "y": True}},
        time=WHEN,
    )
    assert (
        event.canonical_json()
        == (
            '{"actor":"officer-li","details":{"a":{"y":true,"z":null},"b":[1,"二"]},'
            '"object":"dataset:hotline-tickets","subject":"export:7",'
            '"time":"2026-11-26T08:30:00.123456Z","type":"export.approved"}'
        ).encode()
    )


def test_rfc8785_key_order_is_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: the emoji (a surrogate pair) sorts before U+FB33.
    value = {
        "\u20ac": 0,
        "\r": 0,
        "\ufb33": 0,
        "1": 0,
        "\U0001f600": 0,
        "\u0080": 0,
        "\u00f6": 0,
    }
    keys = list(json.loads(canonical_json(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (333333333.33333329, "333333333.3333333"),
        (1e30, "1e+30"),
        (4.50, "4.5"),
        (2e-3, "0.002"),
        (0.000000000000000000000000001, "1e-27"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (5e-324, "5e-324"),
        (-1.5, "-1.5"),
    ],
)
def test_rfc8785_numbers(number: float, text: str) -> None:
    assert es6_number(number) == text
    assert canonical_json({"n": number}) == b'{"n":' + text.encode() + b"}"


def test_rfc8785_string_escapes() -> None:
    value = "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/"
    assert canonical_json(value) == '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"'.encode()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=5), st.text(min_size=1))
def test_the_leaf_is_a_fixed_point(details: dict, actor: str) -> None:
    event = AuditEvent(type="t.x", actor=actor, details=details, time=WHEN)
    leaf = event.canonical_json()
    assert leaf == canonical_json(event.to_dict())  # the event's fast path, the generic one
    again = AuditEvent.from_json(leaf)
    assert again.canonical_json() == leaf
    assert (again.type, again.actor, again.time) == (event.type, event.actor, event.time)


@settings(deadline=None)
@given(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=5))
def test_events_without_floats_round_trip_equal(details: dict) -> None:
    event = AuditEvent(type="t.x", actor="a", subject="grant:1", details=details, time=WHEN)
    assert AuditEvent.from_json(event.canonical_json()) == event


def test_a_non_canonical_leaf_is_refused() -> None:
    leaf = AuditEvent(type="t", actor="a", time=WHEN).canonical_json()
    with pytest.raises(EventError, match="canonical"):
        AuditEvent.from_json(leaf.replace(b'"actor":"a"', b'"actor": "a"'))
    with pytest.raises(EventError):
        AuditEvent.from_json(leaf.replace(b'"type":"t"', b'"type":"t","extra":1'))


def test_time_is_stored_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    event = AuditEvent(type="t", actor="a", time=datetime(2026, 1, 1, 8, 0, tzinfo=beijing))
    assert event.to_dict()["time"] == "2026-01-01T00:00:00.000000Z"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"time": datetime(2026, 1, 1)},
        {"details": {"when": datetime(2026, 1, 1, tzinfo=UTC)}},
        {"details": {"x": float("nan")}},
        {"details": {1: "not a string key"}},
        {"type": ""},
        {"details": ["not", "a", "mapping"]},
        {"subject": 12},
        {"actor": None},
    ],
)
def test_invalid_events_are_refused(kwargs: dict) -> None:
    fields = {"type": "t", "actor": "a", **kwargs}
    with pytest.raises(EventError):
        AuditEvent(**fields)


def test_details_cannot_be_changed_after_the_fact() -> None:
    original = {"files": ["a.csv"]}
    event = AuditEvent(type="t", actor="a", details=original)
    original["files"].append("b.csv")
    assert event.details["files"] == ("a.csv",)
    with pytest.raises(TypeError):
        event.details["files"] = []  # type: ignore[index]


def test_events_pickle_and_copy() -> None:
    import copy
    import pickle

    event = AuditEvent(type="t", actor="a", subject="grant:1", details={"k": [1, {"x": "y"}]})
    assert pickle.loads(pickle.dumps(event)) == event
    assert copy.deepcopy(event) == event
    assert copy.deepcopy(event).canonical_json() == event.canonical_json()
