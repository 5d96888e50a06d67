"""The same isolation on Kubernetes: a KubeSpawner pre-spawn hook and the workspace NetworkPolicy.

The hook refuses a start without an active grant (as ``SandboxSpawner`` does), mounts the grant's
release read-only from its claim (L2 only), applies the grant's limits, and has the pod start
with :mod:`sandbox.podstart` (welcome notebook, ``outbox/``, JupyterLab in the member's
language). The NetworkPolicy lets
a workspace pod talk to the hub and the portal in the hub pod and to nothing else: no DNS, no
internet, no other pod, no cloud metadata.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

import nbformat
from jupyterhub.spawner import SpawnException

from sandbox import members, welcome
from sandbox.bwrap import HOME, RELEASE
from sandbox.grants import GrantProvider, WorkspaceGrant, load_provider, refusal, resolve_grant

RELEASE_CLAIM_TEMPLATE = "release-{grant_id}"
SINGLEUSER_LABELS = {"component": "singleuser-server"}
HUB_LABELS = {"component": "hub"}
PROXY_LABELS = {"component": "proxy"}
PODSTART = ["python3", "-m", "sandbox.podstart"]


def member_language(spawner: Any) -> str:
    """The member's language, as ``SandboxSpawner.member_language`` tells it."""
    handler = getattr(spawner, "handler", None)
    cookie = handler.get_cookie(welcome.LANG_COOKIE) if handler is not None else None
    return welcome.language(spawner.user_options, cookie)


def apply_grant(spawner: Any, grant: WorkspaceGrant, portal_url: str) -> None:
    """Set the release volume, limits and environment of a KubeSpawner for ``grant``."""
    inherited = {k: v for k, v in spawner.environment.items() if k not in members.UNSET_ENV}
    spawner.environment = {
        **inherited,
        **members.member_environment(HOME),  # each member's server has its own PVC as home
        "PDS_GRANT_ID": grant.grant_id,
        "PDS_GRANT_LEVEL": grant.level,
        "PDS_GRANT_ENDS_AT": grant.ends_at.isoformat(),
        "PDS_PORTAL_URL": portal_url,
    }
    spawner.args = [*spawner.args, *(a for a in members.SERVER_ARGS if a not in spawner.args)]
    lang = member_language(spawner)
    spawner.environment["PDS_LANG"] = lang
    notebook = nbformat.writes(welcome.notebook(grant, lang)).encode("utf-8")
    # base64: KubeSpawner expands {braces} in environment values
    spawner.environment["PDS_WELCOME_NOTEBOOK"] = base64.b64encode(notebook).decode("ascii")
    if spawner.cmd[: len(PODSTART)] != PODSTART:
        spawner.cmd = [*PODSTART, *spawner.cmd]
    if grant.level != "L3" and grant.release_dir is not None:
        claim = RELEASE_CLAIM_TEMPLATE.format(grant_id=grant.grant_id)
        spawner.volumes = _added(
            spawner.volumes,
            {"name": "release", "persistentVolumeClaim": {"claimName": claim, "readOnly": True}},
        )
        spawner.volume_mounts = _added(
            spawner.volume_mounts, {"name": "release", "mountPath": RELEASE, "readOnly": True}
        )
        spawner.environment["PDS_RELEASE_DIR"] = RELEASE
    if grant.limits is not None:
        spawner.mem_limit = grant.limits.mem_bytes
        spawner.mem_guarantee = min(spawner.mem_guarantee or 0, grant.limits.mem_bytes) or None
        spawner.cpu_limit = grant.limits.cpu_fraction
        spawner.storage_capacity = str(grant.limits.disk_bytes)
        spawner.extra_resource_limits = {
            **spawner.extra_resource_limits,
            "ephemeral-storage": str(grant.limits.disk_bytes),
        }


def _added(collection: list[Any] | dict[str, Any], item: dict[str, Any]) -> Any:
    """KubeSpawner takes volumes as a list or as a dict keyed by name; add to either."""
    if isinstance(collection, dict):
        return {**collection, item["name"]: item}
    return [*collection, item]


def make_pre_spawn_hook(
    provider: str | GrantProvider, portal_url: str, issuer: str | Callable[..., Any] = ""
) -> Callable[[Any], Awaitable[None]]:
    """A ``KubeSpawner.pre_spawn_hook`` that checks the grant and applies it.

    With an ``issuer`` ("module:function", called as ``issuer(user, grant)``, as
    ``SandboxSpawner.credential_issuer``) the pod gets the grant's workspace credential as
    ``PDS_WORKSPACE_TOKEN``; revoke it with ``make_post_stop_hook``.
    """

    async def pre_spawn_hook(spawner: Any) -> None:
        grant = await resolve_grant(load_provider(provider), spawner.user.name, spawner.name)
        why = refusal(grant, spawner.user.name, spawner.name)
        if why is not None or grant is None:
            raise SpawnException(why or "", reason="no_active_grant", status_code=403)
        apply_grant(spawner, grant, portal_url)
        if issuer:
            issue = load_provider(issuer)
            token = await asyncio.to_thread(issue, spawner.user.name, spawner.name)
            spawner.environment["PDS_WORKSPACE_TOKEN"] = str(token)

    return pre_spawn_hook


def make_post_stop_hook(revoker: str | Callable[..., Any]) -> Callable[[Any], Awaitable[None]]:
    """A ``KubeSpawner.post_stop_hook`` revoking the workspace credential of the stopped server."""

    async def post_stop_hook(spawner: Any) -> None:
        revoke = load_provider(revoker)
        await asyncio.to_thread(revoke, spawner.user.name, spawner.name)

    return post_stop_hook


def network_policy(
    namespace: str, *, hub_port: int = 8081, portal_port: int = 10101, server_port: int = 8888
) -> dict[str, Any]:
    """The NetworkPolicy of workspace pods (what Zero to JupyterHub renders from
    ``docs/kubernetes/values.yaml``): ingress from the proxy and hub to the server port, egress to
    the hub pod's API and portal ports only."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "singleuser", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": dict(SINGLEUSER_LABELS)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [
                        {"podSelector": {"matchLabels": dict(PROXY_LABELS)}},
                        {"podSelector": {"matchLabels": dict(HUB_LABELS)}},
                    ],
                    "ports": [{"port": server_port, "protocol": "TCP"}],
                }
            ],
            "egress": [
                {
                    "to": [{"podSelector": {"matchLabels": dict(HUB_LABELS)}}],
                    "ports": [
                        {"port": hub_port, "protocol": "TCP"},
                        {"port": portal_port, "protocol": "TCP"},
                    ],
                }
            ],
        },
    }
