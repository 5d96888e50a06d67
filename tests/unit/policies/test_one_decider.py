"""Access is decided in one place: ``open_portal/permissions.py`` (asking the Casbin policy).

The test reads the source of the portal, the hub side of the sandbox and the audit package, and
of the page templates, and fails on any code elsewhere that decides who may do something:

- asking the policy directly (``.can(``, ``.check_can(``, ``enforce(``) or building a policy
  request (``Resource(``, ``Subject(``);
- reading roles (``roles_of``, ``all_roles``, ``users_with_role``, ...);
- comparing a person with the people of a record (``x in grant.member_names``,
  ``dataset.owner == user``, ``request.author != actor``, ...), or a role name;
- in a template, a condition on roles or on who the viewer is (``'officer' in roles``,
  ``user.name == grant.holder``): pages receive what ``permissions`` answered instead.

What is left is listed in ``ALLOWED`` with the reason it decides nothing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DECIDER = "open_portal/permissions.py"
PACKAGES = ("open_portal", "sandbox", "audit")
SKIPPED = ("open_portal/migrations/",)

POLICY_CALLS = {"can", "check_can", "enforce", "enforce_ex", "Resource", "Subject"}
ROLE_CALLS = {
    "roles_of",
    "all_roles",
    "domains_of",
    "users_with_role",
    "role_assignments",
    "get_roles_for_user_in_domain",
    "get_users_for_role_in_domain",
    "get_filtered_grouping_policy",
}
PEOPLE = {
    "member_names",
    "invited_names",
    "team_members",
    "members",
    "invitations",
    "applicant",
    "holder",
    "owner",
    "author",
    "triggered_by",
    "confirmed_by",
}
# Not in PEOPLE: ``user_name`` and ``reviewer``, with which the service looks up the caller's own
# records (their vote, their invitation, their notifications) after permissions allowed the act.
ROLE_NAMES = {"researcher", "operator", "owner", "officer", "admin"}

# (file, the code as written) -> why it decides nothing
ALLOWED: dict[tuple[str, str], str] = {
    (
        "open_portal/web.py",
        "roles = portal.policy.all_roles(identity.name)",
    ): "the home page lists the viewer's roles; the navigation uses permissions.nav_rights",
    (
        "open_portal/routes/pages.py",
        "return MeOut(name=user.name, roles=portal.policy.all_roles(user.name), via=user.via)",
    ): "GET /api/me reports the caller's roles; nothing is decided with them",
    (
        "open_portal/views/admin.py",
        "rows = [(u, portal.policy.role_assignments(u.name)) for u in people]",
    ): "the admin page lists every user's roles (the route is guarded by can_manage_platform)",
    (
        "open_portal/demo.py",
        'if role != "owner" and (role, "*") not in portal.policy.role_assignments(name):',
    ): "demo set-up assigns the demo accounts' roles once; it decides no access",
    (
        "open_portal/demo.py",
        'if ("owner", f"dept:{department}") not in portal.policy.role_assignments("owner"):',
    ): "demo set-up, as above",
    (
        "open_portal/demo.py",
        'if name == "operator":',
    ): "demo set-up: the demo operator account gets its organisation's profile",
    (
        "open_portal/service/users.py",
        'if user_name == actor and role == "admin":',
    ): "an admin (allowed by can_manage_platform) may not remove their own admin role: a guard "
    "against locking the platform out, answered 422, not a decision about access",
}
TEMPLATE_ALLOWED: dict[tuple[str, str], str] = {
    (
        "export.html",
        "rights.review and r.status in ('submitted', 'partially_reviewed') "
        "and not f.withdrawn and user.name not in r.reviews",
    ): "hides the vote of an officer who finished this round's review (a state of the request; "
    "the service refuses by state, permissions.can_review_export decides who reviews)",
    (
        "export.html",
        "rights.review and r.status in ('submitted', 'partially_reviewed') "
        "and user.name not in r.reviews",
    ): "the same, for the 'complete review' button",
}


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _is_person_of_record(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr in PEOPLE


def _is_role_name(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in ROLE_NAMES


def decisions_in(source: str) -> list[tuple[int, str]]:
    """(line, reason) of each place in ``source`` that decides access by itself."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            if name in POLICY_CALLS:
                found.append((node.lineno, f"asks the policy itself ({name})"))
            elif name in ROLE_CALLS:
                found.append((node.lineno, f"reads roles ({name})"))
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_person_of_record(o) for o in operands):
                found.append((node.lineno, "compares a person with the people of a record"))
            elif any(_is_role_name(o) for o in operands):
                found.append((node.lineno, "compares with a role name"))
    return found


def python_modules() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel != DECIDER and not rel.startswith(SKIPPED):
                files.append(path)
    return files


def test_no_code_outside_permissions_decides_access() -> None:
    offences = []
    used = set()
    for path in python_modules():
        rel = path.relative_to(ROOT).as_posix()
        lines = path.read_text().splitlines()
        for line, reason in decisions_in(path.read_text()):
            code = lines[line - 1].strip()
            if (rel, code) in ALLOWED:
                used.add((rel, code))
                continue
            offences.append(f"{rel}:{line}: {reason}: {code}")
    assert offences == []
    assert set(ALLOWED) - used == set(), "allow-listed lines that no longer exist"


CONDITION = re.compile(r"{%-?\s*(?:if|elif)\s+(.*?)\s*-?%}", re.S)
PEOPLE_OF_RECORD = (
    r"\.(?:member_names|invited_names|team_members|applicant|holder|owner|author|triggered_by)\b"
)
TEMPLATE_DECISION = re.compile(
    r"\bin\s+roles\b"
    r"|user\.name\s*(?:==|!=|\bin\b|\bnot\s+in\b)"
    r"|(?:==|!=|\bin\b)\s*user\.name\b"
    rf"|(?:==|!=|\bin\b)\s*[\w.]*{PEOPLE_OF_RECORD}"
    rf"|{PEOPLE_OF_RECORD}\s*(?:==|!=)"
)


def template_decisions(text: str) -> list[str]:
    return [c for c in CONDITION.findall(text) if TEMPLATE_DECISION.search(c)]


def test_no_template_decides_access() -> None:
    offences = []
    used = set()
    for path in sorted((ROOT / "open_portal" / "templates").glob("*.html")):
        for condition in template_decisions(path.read_text()):
            key = (path.name, " ".join(condition.split()))
            if key in TEMPLATE_ALLOWED:
                used.add(key)
                continue
            offences.append(f"{path.name}: {{% if {condition} %}}")
    assert offences == []
    assert set(TEMPLATE_ALLOWED) - used == set()


def test_the_rules_catch_what_they_are_for() -> None:
    """The detectors flag the forms of decision the portal used to make outside permissions."""
    samples = {
        "ok = user in grant.member_names": 1,
        "ok = dataset.owner == actor": 1,
        "if request.author != actor: pass": 1,
        "ok = 'officer' in roles": 1,
        "ok = policies.can(Subject(user), 'read', Resource('audit'))": 3,
        "roles = portal.policy.all_roles(user)": 1,
        "ok = portal.policy.users_with_role('officer')": 1,
        "ok = enforcer.enforce(user, '*', 'grant', 'use', ctx)": 1,
        "names = ', '.join(grant.member_names)": 0,
        "ok = permissions.can_use_grant(policy, session, user, grant, now)": 0,
    }
    for source, expected in samples.items():
        assert len(decisions_in(source)) == expected, source
    assert template_decisions("{% if 'officer' in roles %}x{% endif %}")
    assert template_decisions("{% elif user.name == grant.holder %}")
    assert template_decisions("{% if record.triggered_by == user.name %}")
    assert template_decisions("{% if user.name in grant.invited_names %}")
    assert not template_decisions("{% if rights.use %}{{ grant.member_names | join(', ') }}")
    assert not template_decisions("{% if grant.invited_names %}<tr>...</tr>{% endif %}")
