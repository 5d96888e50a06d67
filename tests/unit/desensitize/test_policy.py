"""Policies: YAML validation, checks against a table, and the default policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from desensitize import Policy, default_policy, load_policy, scan_table, validate_policy
from desensitize.exceptions import PolicyError, UnknownColumnError, UnprotectedIdentifierError
from desensitize.policy import Action


def test_sample_policy_loads_and_round_trips(people_policy: Path) -> None:
    policy = load_policy(people_policy)
    assert policy.columns["mobile"].keep_last == 4
    assert policy.k_anonymity is not None and policy.k_anonymity.k == 2
    assert Policy.from_yaml(policy.to_yaml()) == policy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns: {a: {action: shred}}", "columns.a.action"),
        ("columns: {a: {action: generalize}}", "exactly one of bins"),
        ("columns: {a: {action: mask, bins: [1, 2]}}", "only go with action generalize"),
        ("columns: {a: {action: keep, keep_first: 2}}", "keep_first"),
        ("columns: {a: {action: generalize, bins: [3, 1]}}", "increasing"),
        ("columns: {a: {action: drop}}\nk_anonymity: {k: 2, quasi_identifiers: [a]}", "dropped"),
        ("k_anonymity: {k: 1, quasi_identifiers: [a]}", "k_anonymity.k"),
        ("colums: {}", "colums"),
        ("- just\n- a list", "mapping"),
        ("columns: {a: [unclosed", "not YAML"),
    ],
)
def test_invalid_policies_name_the_rule(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy.from_yaml(text)


def test_unknown_column(people_csv: Path) -> None:
    policy = Policy.from_yaml("columns: {nmae: {action: drop}}")
    with pytest.raises(UnknownColumnError, match="'nmae'"):
        validate_policy(policy, scan_table(people_csv))


def test_unknown_quasi_identifier(people_csv: Path) -> None:
    policy = default_policy(scan_table(people_csv))
    policy.k_anonymity = Policy.from_yaml(
        "k_anonymity: {k: 2, quasi_identifiers: [sex]}"
    ).k_anonymity
    with pytest.raises(UnknownColumnError, match="'sex'"):
        validate_policy(policy, scan_table(people_csv))


def test_identifier_left_untouched_needs_an_explicit_keep(people_csv: Path) -> None:
    scan = scan_table(people_csv)
    policy = default_policy(scan)
    del policy.columns["id_number"]
    with pytest.raises(UnprotectedIdentifierError, match="'id_number' holds CN_ID_CARD"):
        validate_policy(policy, scan)
    policy.columns["id_number"] = Policy.from_yaml("columns: {x: {action: keep}}").columns["x"]
    validate_policy(policy, scan)


def test_generalization_must_fit_the_column(people_csv: Path) -> None:
    scan = scan_table(people_csv)
    policy = default_policy(scan)
    policy.columns["gender"] = Policy.from_yaml(
        "columns: {x: {action: generalize, bins: [1]}}"
    ).columns["x"]
    with pytest.raises(PolicyError, match="'gender': numeric bins"):
        validate_policy(policy, scan)


def test_default_policies(people_csv: Path) -> None:
    scan = scan_table(people_csv)
    l2, l1 = default_policy(scan, level="L2"), default_policy(scan, level="L1")
    for policy in (l1, l2):
        validate_policy(policy, scan)
        assert policy.columns["note"].action == Action.REDACT
        assert policy.columns["address"].address_to == "district"
    assert l2.columns["id_number"].action == Action.PSEUDONYMIZE
    assert l1.columns["id_number"].action == Action.DROP
    assert l1.columns["birth_date"].date_to == "year"
    assert l2.columns["birth_date"].date_to == "month"
    assert l1.columns["age"].bins
    assert l1.k_anonymity is not None and "gender" in l1.k_anonymity.quasi_identifiers
    assert "order_no" not in l1.columns and "bad_id" not in l2.columns
    with pytest.raises(PolicyError, match="L9"):
        default_policy(scan, level="L9")
