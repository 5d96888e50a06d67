"""The Kubernetes path, offline: pod and PVC manifests from KubeSpawner, the NetworkPolicy, values."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from jupyterhub import orm
from jupyterhub.spawner import SpawnException
from kubernetes_asyncio.config import kube_config
from kubespawner import KubeSpawner
from traitlets.config import PyFileConfigLoader

from sandbox import podstart
from sandbox.kubernetes import PODSTART, make_post_stop_hook, network_policy

DOCS = Path(__file__).resolve().parents[3] / "docs" / "kubernetes"
DISK = 2 * 1024**3


@dataclass
class HubUser:
    """What KubeSpawner reads of a hub user when it builds manifests."""

    name: str = "alice"
    id: int = 7
    url: str = "/user/alice/"
    escaped_name: str = "alice"
    groups: list[Any] = field(default_factory=list)
    spawners: dict[str, Any] = field(default_factory=dict)


def grants_file(tmp_path: Path, level: str, active: bool = True) -> Path:
    path = tmp_path / "grants.json"
    path.write_text(
        json.dumps(
            [
                {
                    "grant_id": "g-1",
                    "user": "alice",
                    "level": level,
                    "active": active,
                    "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                    "release_dir": "/srv/releases/g-1",
                    "limits": {
                        "mem_bytes": 1024**3,
                        "cpu_fraction": 0.5,
                        "max_pids": 256,
                        "disk_bytes": DISK,
                    },
                }
            ]
        )
    )
    return path


OFFLINE_KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: offline, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: offline, user: {token: unused}}]
contexts: [{name: offline, context: {cluster: offline, user: offline, namespace: pds}}]
current-context: offline
"""


async def spawner_for(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    level: str,
    active: bool = True,
    options: dict[str, str] | None = None,
) -> KubeSpawner:
    """A KubeSpawner with the documented config; no cluster is ever contacted."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(OFFLINE_KUBECONFIG)
    # the client read $KUBECONFIG when imported; point it at the offline file
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    monkeypatch.setenv("PDS_GRANT_PROVIDER", "sandbox.grants:json_file_provider")
    monkeypatch.setenv("PDS_SANDBOX_GRANTS_FILE", str(grants_file(tmp_path, level, active)))
    # an importable stand-in for the portal's issuer: the "credential" is user/grant
    monkeypatch.setenv("PDS_CREDENTIAL_ISSUER", "posixpath:join")
    config = PyFileConfigLoader("kubespawner_config.py", path=str(DOCS)).load_config()
    spawner = KubeSpawner(
        _mock=True, config=config, user=HubUser(), orm_spawner=orm.Spawner(name="g-1")
    )
    spawner.user_options = options or {}
    await spawner.run_pre_spawn_hook()
    return spawner


async def pod_of(spawner: KubeSpawner) -> dict[str, Any]:
    """The pod manifest as the JSON that would be sent to the API server."""
    pod = await spawner.get_pod_manifest()
    return dict(spawner.api.api_client.sanitize_for_serialization(pod))


async def test_l2_pod_mounts_the_release_read_only_and_drops_privileges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawner = await spawner_for(tmp_path, monkeypatch, "L2")
    pod = await pod_of(spawner)
    spec = pod["spec"]
    (c,) = spec["containers"]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/data/release"]["readOnly"] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["release"]["persistentVolumeClaim"] == {
        "claimName": "release-g-1",
        "readOnly": True,
    }
    assert set(volumes) == {"home", "tmp", "release"}
    assert not any("hostPath" in v for v in volumes.values())
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc.get("privileged", False) is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    limits = c["resources"]["limits"]
    assert int(limits["memory"]) == 1024**3
    assert float(limits["cpu"]) == 0.5
    assert int(limits["ephemeral-storage"]) == DISK
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["PDS_GRANT_ID"] == "g-1" and env["PDS_GRANT_LEVEL"] == "L2"
    assert env["PDS_RELEASE_DIR"] == "/data/release"
    assert env["PDS_PORTAL_URL"].startswith("http://hub:")
    # configuration and start-up code only from the member's own home (its own PVC)
    assert env["PYTHONSAFEPATH"] == "1" and env["HOME"] == "/home/workspace"
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR", "PYTHONUSERBASE"):
        assert env[name].startswith("/home/workspace/."), name
    assert not {"JUPYTER_PATH", "PYTHONPATH", "PYTHONSTARTUP"} & set(env)
    # the lab serves files for viewing only (sandbox.labguard), as on the host
    assert "--ServerApp.contents_manager_class=sandbox.labguard.GuardedContentsManager" in c["args"]
    assert pod["metadata"]["labels"]["component"] == "singleuser-server"


async def test_l3_pod_has_no_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spawner = await spawner_for(tmp_path, monkeypatch, "L3")
    spec = (await pod_of(spawner))["spec"]
    (c,) = spec["containers"]
    assert "release" not in {v["name"] for v in spec["volumes"]}
    assert "/data/release" not in {m["mountPath"] for m in c["volumeMounts"]}
    assert "PDS_RELEASE_DIR" not in {e["name"] for e in c["env"]}


async def test_home_claim_has_the_grant_disk_size_and_is_deleted_with_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawner = await spawner_for(tmp_path, monkeypatch, "L2")
    pvc = spawner.get_pvc_manifest()
    assert pvc.spec.resources.requests["storage"] == str(DISK)
    assert pvc.metadata.name == "workspace-alice--g-1"
    assert spawner.delete_pvc is True


async def test_inactive_grant_is_refused_before_any_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SpawnException) as refused:
        await spawner_for(tmp_path, monkeypatch, "L2", active=False)
    assert refused.value.status_code == 403


def test_network_policy_allows_only_hub_and_portal() -> None:
    policy = yaml.safe_load((DOCS / "networkpolicy.yaml").read_text())
    assert policy == network_policy("pds")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    (egress,) = spec["egress"]
    assert egress["to"] == [{"podSelector": {"matchLabels": {"component": "hub"}}}]
    ports = {p["port"] for p in egress["ports"]}
    assert ports == {8081, 10101}
    assert 53 not in ports
    text = json.dumps(policy)
    assert "ipBlock" not in text and "namespaceSelector" not in text


def test_values_turn_every_egress_allowance_off() -> None:
    values = yaml.safe_load((DOCS / "values.yaml").read_text())
    policy = values["singleuser"]["networkPolicy"]
    assert policy["enabled"] is True
    assert policy["egressAllowRules"] and not any(policy["egressAllowRules"].values())
    for rule in policy["egress"]:
        assert all(set(peer) == {"podSelector"} for peer in rule["to"])
        assert all(p["port"] != 53 for p in rule["ports"])
    assert values["singleuser"]["allowPrivilegeEscalation"] is False
    assert values["singleuser"]["extraPodConfig"]["automountServiceAccountToken"] is False
    assert values["hub"]["config"]["KubeSpawner"]["delete_pvc"] is True
    assert values["cull"]["users"] is False
    assert "--host-routing" in values["proxy"]["chp"]["extraCommandLineFlags"]
    assert "configure_origins" in values["hub"]["extraConfig"]["01-pds-origins"]


def test_kubernetes_config_puts_workspaces_on_their_own_origins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PDS_PUBLIC_URL", "https://data.example.gov.cn")
    monkeypatch.setenv("PDS_WORKSPACE_HOST", "ws.example-usercontent.cn")
    config = PyFileConfigLoader("kubespawner_config.py", path=str(DOCS)).load_config()
    hub = config.JupyterHub
    assert hub.subdomain_host == "https://data.example.gov.cn"
    assert hub.hub_routespec == "data.example.gov.cn/"
    assert hub.subdomain_hook("alice", "data.example.gov.cn", "user") == (
        "alice.ws.example-usercontent.cn"
    )


async def test_the_pod_gets_its_grants_credential_and_no_portal_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawner = await spawner_for(tmp_path, monkeypatch, "L2")
    assert spawner.environment["PDS_WORKSPACE_TOKEN"] == f"{spawner.user.name}/g-1"
    assert not any("access:services" in s for s in spawner.server_token_scopes)
    revoked: list[tuple[str, str]] = []
    hook = make_post_stop_hook(lambda user, grant: revoked.append((user, grant)))
    await hook(spawner)
    assert revoked == [(spawner.user.name, "g-1")]


@pytest.mark.parametrize(
    ("options", "lang", "heading"), [(None, "zh", "欢迎"), ({"lang": "en"}, "en", "Welcome")]
)
async def test_the_pod_starts_by_writing_the_welcome_in_the_member_s_language(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, str] | None,
    lang: str,
    heading: str,
) -> None:
    spawner = await spawner_for(tmp_path, monkeypatch, "L2", options=options)
    (c,) = (await pod_of(spawner))["spec"]["containers"]
    # KubeSpawner gives the command as the container's arguments (the image's entrypoint runs it)
    assert c["args"][: len(PODSTART)] == PODSTART
    assert c["args"][len(PODSTART)] == "jupyterhub-singleuser"  # then the server
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["PDS_LANG"] == lang
    welcome = nbformat.reads(base64.b64decode(env["PDS_WELCOME_NOTEBOOK"]), as_version=4)
    nbformat.validate(welcome)
    assert heading in welcome.cells[0].source and "g-1" in welcome.cells[0].source
    await spawner.run_pre_spawn_hook()  # a restart does not wrap the command twice
    assert spawner.cmd.count("sandbox.podstart") == 1


def test_the_pod_writes_the_welcome_into_the_home_and_keeps_the_member_s_own(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    environ = {"PDS_WELCOME_NOTEBOOK": base64.b64encode(b"{}").decode(), "PDS_LANG": "en"}
    written = podstart.prepare(home, environ)
    assert podstart.NOTEBOOK in written and (home / "outbox").is_dir()
    settings = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    locale = settings / "translation-extension" / "plugin.jupyterlab-settings"
    assert json.loads(locale.read_text()) == {"locale": "en"}
    notes = settings / "apputils-extension" / "notification.jupyterlab-settings"
    assert json.loads(notes.read_text())["checkForUpdates"] is False
    (home / podstart.NOTEBOOK).write_text("my notes")  # the member's own, kept
    locale.write_text('{"locale": "zh_CN"}')  # the member's choice, kept
    assert podstart.prepare(home, {**environ, "PDS_LANG": "zh"}) == []
    assert (home / podstart.NOTEBOOK).read_text() == "my notes"
    assert json.loads(locale.read_text()) == {"locale": "zh_CN"}


def test_a_link_in_place_of_the_notebook_is_not_followed(tmp_path: Path) -> None:
    home, target = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    (home / podstart.NOTEBOOK).symlink_to(target)
    podstart.prepare(home, {"PDS_WELCOME_NOTEBOOK": base64.b64encode(b"{}").decode()})
    assert not target.exists()


def test_a_broken_notebook_variable_starts_the_server_without_a_welcome(tmp_path: Path) -> None:
    assert podstart.prepare(tmp_path, {"PDS_WELCOME_NOTEBOOK": "not base64!"}) == [
        *podstart.SETTINGS
    ]
    assert not (tmp_path / podstart.NOTEBOOK).exists() and (tmp_path / "outbox").is_dir()


def test_the_pod_start_becomes_the_server(tmp_path: Path) -> None:
    probe = "import os, pathlib; print(os.environ.get('PDS_WELCOME_NOTEBOOK'), pathlib.Path('welcome.ipynb').read_text())"
    notebook = base64.b64encode(b'{"cells": []}').decode()
    env = {**os.environ, "HOME": str(tmp_path), "PDS_WELCOME_NOTEBOOK": notebook}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[3])
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.podstart", sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["None", '{"cells":', "[]}"]
