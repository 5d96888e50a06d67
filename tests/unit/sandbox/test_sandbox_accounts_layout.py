"""Account names and workspace layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.accounts import account_name
from sandbox.workspace import WorkspaceLayout


@pytest.mark.parametrize("grant_id", ["g-1", "G-2026-000123", "a" * 100, "授权-1", "x.y_z", "---"])
def test_account_names_are_valid_and_distinct(grant_id: str) -> None:
    name = account_name(grant_id)
    assert len(name) <= 32
    assert name.startswith("pdsw-")
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in name)
    assert name != account_name(grant_id + "x")
    assert name == account_name(grant_id)
    assert name != account_name(grant_id, "/srv/other-deployment/workspaces")


@pytest.mark.parametrize("grant_id", ["../etc", "a/b", "", ".", "..", "-x", "a\x00"])
def test_unsafe_grant_ids_are_refused(grant_id: str) -> None:
    with pytest.raises(ValueError):
        WorkspaceLayout.of(grant_id, Path("/w"), Path("/r"))


def test_layout_paths() -> None:
    layout = WorkspaceLayout.of("g-1", Path("/w"), Path("/r"))
    assert layout.home == Path("/w/g-1/home")
    assert layout.image == Path("/w/g-1/home.img")
    assert layout.server_socket == Path("/r/g-1/server/jupyter.sock")
    assert layout.hub_socket.parent == layout.portal_socket.parent == Path("/r/g-1")
