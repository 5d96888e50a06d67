"""What the spawner needs to know about a grant, and how it asks for it."""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sandbox.exceptions import Error

GrantProvider = Callable[[str, str], "Awaitable[WorkspaceGrant | None] | WorkspaceGrant | None"]


@dataclass(frozen=True)
class WorkspaceLimits:
    """Resource limits of one workspace."""

    mem_bytes: int
    cpu_fraction: float
    max_pids: int
    disk_bytes: int


@dataclass(frozen=True)
class WorkspaceDataset:
    """A dataset of the grant as the welcome notebook presents it."""

    id: str
    title_zh: str
    title_en: str
    level: str  # "L2": records in the release; "L3": DP queries only
    numeric: tuple[str, ...] = ()  # columns with declared DP bounds
    categorical: tuple[str, ...] = ()  # columns with a declared DP domain


@dataclass(frozen=True)
class WorkspaceGrant:
    """A grant as the sandbox sees it: who may start it, what is mounted, until when."""

    grant_id: str  # also the named server's name
    user: str  # the hub user who may start it (a member of the grant)
    level: str  # "L2": a release of record-level data is mounted; "L3": DP answers only
    active: bool
    ends_at: datetime
    release_dir: Path | None  # desensitized release to mount read-only (None for L3)
    limits: WorkspaceLimits | None = None
    reason: str = ""  # why not active, shown to the user in both languages
    datasets: tuple[WorkspaceDataset, ...] = ()  # for the welcome notebook
    epsilon_budget: str = ""  # the grant's DP budget ("" or "0": none)
    last_day: str = ""  # the term's last day where the portal is (ISO date); "" = from ends_at


def load_provider(spec: str | GrantProvider) -> GrantProvider:
    """Resolve ``"module:function"`` (or pass a callable through) to a grant provider."""
    if callable(spec):
        return spec
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise Error(f"grant provider must be 'module:function', got {spec!r}")
    provider = getattr(importlib.import_module(module_name), attr)
    if not callable(provider):
        raise Error(f"grant provider {spec!r} is not callable")
    return provider


async def resolve_grant(
    provider: GrantProvider, user_name: str, server_name: str
) -> WorkspaceGrant | None:
    """Call the provider: an async one on the event loop, a blocking one in a thread."""
    call = functools.partial(provider, user_name, server_name)
    result = call() if inspect.iscoroutinefunction(provider) else await asyncio.to_thread(call)
    if inspect.isawaitable(result):
        result = await result
    if result is not None and not isinstance(result, WorkspaceGrant):
        raise Error(f"grant provider returned {type(result).__name__}, not WorkspaceGrant")
    return result


def refusal(grant: WorkspaceGrant | None, user_name: str, server_name: str) -> str | None:
    """Why a workspace may not start for this grant (English and Chinese), or None if it may."""
    if grant is None or grant.user != user_name or grant.grant_id != server_name:
        return (
            f"No active grant '{server_name}' for you: a workspace opens only for an approved "
            f"grant. 没有您可用的授权「{server_name}」：工作空间仅对已批准的授权开放。"
        )
    if not grant.active:
        return f"Grant '{server_name}' is not active. 授权「{server_name}」未生效。 {grant.reason}"
    ends_at = grant.ends_at if grant.ends_at.tzinfo else grant.ends_at.replace(tzinfo=UTC)
    if ends_at <= datetime.now(UTC):
        return f"Grant '{server_name}' has ended. 授权「{server_name}」已到期。"
    return None


def grant_from_dict(data: dict[str, object]) -> WorkspaceGrant:
    """Build a grant from its JSON form (``ends_at`` ISO 8601, ``limits`` an object or null)."""
    limits = data.get("limits")
    release = data.get("release_dir")
    return WorkspaceGrant(
        grant_id=str(data["grant_id"]),
        user=str(data["user"]),
        level=str(data["level"]),
        active=bool(data["active"]),
        ends_at=datetime.fromisoformat(str(data["ends_at"])),
        release_dir=Path(str(release)) if release else None,
        limits=WorkspaceLimits(**limits) if isinstance(limits, dict) else None,
        reason=str(data.get("reason", "")),
    )


def json_file_provider(user_name: str, server_name: str) -> WorkspaceGrant | None:
    """A provider reading a JSON list of grants from ``$PDS_SANDBOX_GRANTS_FILE``.

    For development, tests and the benchmark; the portal provides the production one.
    A grant of another user is treated as no grant.
    """
    path = Path(os.environ.get("PDS_SANDBOX_GRANTS_FILE", "grants.json"))
    if not path.exists():
        return None
    for item in json.loads(path.read_text(encoding="utf-8")):
        grant = grant_from_dict(item)
        if grant.grant_id == server_name and grant.user == user_name:
            return grant
    return None
