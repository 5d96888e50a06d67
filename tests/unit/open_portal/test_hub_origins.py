"""Where the hub puts the portal and the workspaces: one origin for hub and portal, one per user."""

from __future__ import annotations

from pathlib import Path

import pytest
from traitlets.config import Config

from open_portal.exceptions import ConfigurationError
from open_portal.hub import HubSettings, configure, origins


def settings(**values: object) -> HubSettings:
    return HubSettings(**values)  # type: ignore[arg-type]


def test_demo_layout_puts_each_user_on_a_localhost_name() -> None:
    where = origins(settings(port=8000))
    assert where.public == "http://127.0.0.1:8000"
    assert where.workspace_origin("researcher") == "http://researcher.localhost:8000"
    assert where.workspace_pattern == "http://<user>.localhost:8000"
    hook = where.subdomain_hook()
    assert hook("researcher", "127.0.0.1", "user") == "researcher.localhost"
    assert hook("portal", "127.0.0.1", "service") == "127.0.0.1"  # the portal stays with the hub


@pytest.mark.parametrize(
    "name",
    ["researcher", "Researcher", "张三", "a--b", "a.b", "a_b", "-x", "x" * 80, "admin", "127"],
)
def test_every_user_name_gets_one_label_under_the_workspace_domain(name: str) -> None:
    where = origins(settings(public_url="https://data.example.cn", workspace_host="ws.example.net"))
    host = where.subdomain_hook()(name, "data.example.cn", "user")
    label, _, rest = host.partition(".")
    assert rest == "ws.example.net"
    assert label and len(label) <= 63 and all(c.isalnum() or c == "-" for c in label)
    assert host != "data.example.cn"


def test_user_names_never_share_an_origin() -> None:
    where = origins(settings())
    names = ["alice", "Alice", "alice-", "al--ice", "张三", "张四", "a.b", "a_b", "a b"]
    hosts = [where.workspace_origin(n) for n in names]
    assert len(set(hosts)) == len(names)


@pytest.mark.parametrize(
    ("public_url", "workspace_host", "says"),
    [
        ("https://data.example.cn", "data.example.cn", "must not be the portal's host"),
        ("https://data.example.cn", "ws.data.example.cn", "must not be the portal's host"),
        ("https://data.example.cn", "example.cn", "must not be the portal's host"),
        ("http://localhost:8000", "localhost", "must not be the portal's host"),
        ("https://data.example.cn", "https://ws.example.net", "must be a domain name"),
        ("https://data.example.cn", "ws.example.net:8443", "must be a domain name"),
        ("https://data.example.cn", "*.ws.example.net", "must be a domain name"),
        ("https://data.example.cn/portal", "ws.example.net", "without a path"),
        ("ftp://data.example.cn", "ws.example.net", "http(s)://"),
    ],
)
def test_a_layout_where_workspaces_meet_the_portal_is_refused(
    public_url: str, workspace_host: str, says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says.replace("(", r"\(").replace(")", r"\)")):
        origins(settings(public_url=public_url, workspace_host=workspace_host))


def test_outside_demo_mode_the_workspace_domain_is_required() -> None:
    with pytest.raises(ConfigurationError, match="PDS_WORKSPACE_HOST is not set"):
        origins(settings(demo=False, public_url="https://data.example.cn"))


def test_the_hub_config_routes_hub_and_portal_on_the_public_host_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PDS_PORT", "8123")
    c = Config()
    configure(c)
    hub = c.JupyterHub
    assert hub.public_url == "http://127.0.0.1:8123/"
    assert hub.subdomain_host == "http://127.0.0.1:8123"
    assert hub.hub_routespec == "127.0.0.1/"  # the hub never answers on a workspace's host
    assert hub.cookie_host_prefix_enabled is False  # needs https
    assert hub.subdomain_hook("researcher", "127.0.0.1", "user") == "researcher.localhost"


def test_over_https_hub_cookies_take_the_host_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PDS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PDS_PUBLIC_URL", "https://data.example.cn")
    monkeypatch.setenv("PDS_WORKSPACE_HOST", "ws.example-usercontent.cn")
    c = Config()
    configure(c)
    assert c.JupyterHub.public_url == "https://data.example.cn/"
    assert c.JupyterHub.hub_routespec == "data.example.cn/"
    assert c.JupyterHub.cookie_host_prefix_enabled is True
    hook = c.JupyterHub.subdomain_hook
    assert hook("alice", "data.example.cn", "user") == "alice.ws.example-usercontent.cn"
