"""How the hub is put together; ``jupyterhub_config.py`` only calls :func:`configure`."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jupyterhub.utils import subdomain_hook_idna
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from open_portal.config import HUB_OFFSET, PROXY_API_OFFSET, PortalSettings, derived_port
from open_portal.exceptions import ConfigurationError
from sandbox.culler import idle_culler_service

ROOT = Path(__file__).resolve().parent.parent
DEMO_NAMES = ("researcher", "operator", "owner", "officer", "officer2", "admin")


class OIDCSettings(BaseSettings):
    """The OIDC provider used outside demo mode (``PDS_OIDC_*``)."""

    model_config = SettingsConfigDict(env_prefix="PDS_OIDC_", extra="ignore")

    client_id: str = Field("", description="Client id registered with the OIDC provider.")
    client_secret: SecretStr = Field(SecretStr(""), description="Client secret of that client.")
    authorize_url: str = Field("", description="The provider's authorization endpoint.")
    token_url: str = Field("", description="The provider's token endpoint.")
    userdata_url: str = Field("", description="The provider's userinfo endpoint.")
    callback_url: str = Field("", description="This hub's callback, https://…/hub/oauth_callback.")
    username_claim: str = Field(
        "preferred_username", description="Claim that becomes the user name."
    )
    scope: list[str] = Field(
        default_factory=lambda: ["openid", "profile", "email"], description="Scopes requested."
    )

    def missing(self) -> list[str]:
        fields = {
            "PDS_OIDC_CLIENT_ID": self.client_id,
            "PDS_OIDC_CLIENT_SECRET": self.client_secret.get_secret_value(),
            "PDS_OIDC_AUTHORIZE_URL": self.authorize_url,
            "PDS_OIDC_TOKEN_URL": self.token_url,
            "PDS_OIDC_USERDATA_URL": self.userdata_url,
            "PDS_OIDC_CALLBACK_URL": self.callback_url,
        }
        return [name for name, value in fields.items() if not value]


class HubSettings(PortalSettings):
    hub_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Loopback port of the hub's own API; 0 means the public port + 81.",
    )
    proxy_api_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Loopback port of the proxy's API; 0 means the public port + 1.",
    )
    idle_timeout: int = Field(
        3600, ge=60, description="Seconds before an idle workspace is stopped."
    )
    workspace_host: str = Field(
        "",
        description=(
            "Domain under which every user's workspaces get an origin of their own, "
            "`<user>.<domain>` on the public scheme and port (wildcard DNS and certificate, "
            "e.g. `ws.example-usercontent.cn`). Empty: `localhost` in demo mode; required "
            "outside it. Must not be the portal's host, nor a parent or a subdomain of it."
        ),
    )

    @model_validator(mode="after")
    def _hub_ports_follow_the_public_port(self) -> HubSettings:
        self.hub_port = self.hub_port or derived_port(self.port, HUB_OFFSET)
        self.proxy_api_port = self.proxy_api_port or derived_port(self.port, PROXY_API_OFFSET)
        return self

    def ports(self) -> dict[str, int]:
        """Every port this deployment listens on, by the setting that names it."""
        return {
            "PDS_PORT": self.port,
            "PDS_HUB_PORT": self.hub_port,
            "PDS_PROXY_API_PORT": self.proxy_api_port,
            "PDS_PORTAL_PORT": self.portal_port,
        }


DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


@dataclass(frozen=True)
class Origins:
    """Where the browser meets the platform: hub and portal on one origin, workspaces elsewhere.

    ``public`` is the hub's and the portal's origin (``scheme://host[:port]``); each user's
    workspaces are served at ``scheme://<user>.<workspace_domain>[:port]``, so nothing a
    workspace serves runs with the portal's or the hub's cookies.
    """

    public: str
    workspace_domain: str

    @property
    def public_host(self) -> str:
        return urlsplit(self.public).hostname or ""

    @property
    def https(self) -> bool:
        return self.public.startswith("https://")

    @property
    def workspace_pattern(self) -> str:
        """What a workspace origin looks like, for people: ``http://<user>.localhost:8000``."""
        return self.workspace_origin("user").replace("://user.", "://<user>.", 1)

    def workspace_origin(self, user: str) -> str:
        """The origin of ``user``'s workspaces, as the hub routes them."""
        parts = urlsplit(self.public)
        host = subdomain_hook_idna(user, self.workspace_domain, "user")
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}"

    def subdomain_hook(self) -> Callable[[str, str, str], str]:
        """JupyterHub's ``subdomain_hook``: users under the workspace domain, services (the
        portal) on the hub's own host."""
        workspace_domain = self.workspace_domain

        def hook(name: str, domain: str, kind: str) -> str:
            if kind == "user":
                return subdomain_hook_idna(name, workspace_domain, "user")
            return domain

        return hook


def origins(settings: HubSettings) -> Origins:
    """The public origin and the workspace domain; refuses a layout where they could meet."""
    public = settings.public_url.strip().rstrip("/") or f"http://127.0.0.1:{settings.port}"
    parts = urlsplit(public)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        raise ConfigurationError(
            f"PDS_PUBLIC_URL must be http(s)://host[:port] without a path, not {public!r}"
        )
    domain = settings.workspace_host.strip().lower().rstrip(".")
    if not domain:
        if not settings.demo:
            raise ConfigurationError(
                "PDS_WORKSPACE_HOST is not set: workspaces need a domain of their own "
                "(wildcard DNS *.<domain>), apart from the portal's host"
            )
        domain = "localhost"
    if not DOMAIN.fullmatch(domain):
        raise ConfigurationError(f"PDS_WORKSPACE_HOST must be a domain name, not {domain!r}")
    host = parts.hostname.lower()
    if domain == host or domain.endswith("." + host) or host.endswith("." + domain):
        raise ConfigurationError(
            f"PDS_WORKSPACE_HOST {domain!r} must not be the portal's host {host!r}, nor a "
            "parent or a subdomain of it: a workspace could then receive or set the portal's "
            "and the hub's cookies, or be named like the portal's host"
        )
    return Origins(public=f"{parts.scheme}://{parts.netloc.lower()}", workspace_domain=domain)


def proxy_command() -> list[str]:
    local = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return [str(local)]
    found = shutil.which("configurable-http-proxy")
    if found is None:
        raise ConfigurationError("configurable-http-proxy is not installed: run `make install`")
    return [found]


def check_production(settings: HubSettings) -> OIDCSettings:
    """Outside demo mode: refuse demo or default secrets, require an OIDC provider."""
    oidc = OIDCSettings()
    problems = []
    if settings.demo_password is not None and settings.demo_password.get_secret_value():
        problems.append("PDS_DEMO_PASSWORD is set but demo mode is off")
    secret = settings.cookie_secret.get_secret_value() if settings.cookie_secret else ""
    if len(secret) < 32 or len(set(secret)) < 8:
        problems.append("PDS_COOKIE_SECRET must be a random value of at least 32 characters")
    if not os.environ.get("JUPYTERHUB_CRYPT_KEY"):
        problems.append("JUPYTERHUB_CRYPT_KEY is not set")
    if not os.environ.get("JPY_COOKIE_SECRET"):
        problems.append("JPY_COOKIE_SECRET (the hub's cookie secret) is not set")
    if not settings.public_url.startswith("https://"):
        problems.append("PDS_PUBLIC_URL must be the https:// address users open")
    if not settings.workspace_host:
        problems.append("PDS_WORKSPACE_HOST (the workspaces' own domain) is not set")
    problems += [f"{name} is not set" for name in oidc.missing()]
    if problems:
        raise ConfigurationError("refusing to start outside demo mode: " + "; ".join(problems))
    return oidc


def service_environment(settings: HubSettings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith("PDS_")}
    env["PDS_DATA_DIR"] = str(settings.data_dir)
    env["PYTHONPATH"] = str(ROOT)
    return env


def configure(c: Any) -> None:
    """Fill the hub's config object ``c``."""
    settings = HubSettings()
    data = settings.data_dir
    secrets_dir = settings.secrets_dir
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    c.JupyterHub.bind_url = f"http://127.0.0.1:{settings.port}"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings.hub_port}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
    c.ConfigurableHTTPProxy.command = proxy_command()
    c.ConfigurableHTTPProxy.pid_file = str(data / "jupyterhub-proxy.pid")
    c.JupyterHub.db_url = os.environ.get(
        "PDS_HUB_DATABASE_URL", f"sqlite:///{data / 'jupyterhub.sqlite'}"
    )
    c.JupyterHub.cookie_secret_file = str(secrets_dir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(data / "jupyterhub.pid")
    c.JupyterHub.allow_named_servers = True
    c.JupyterHub.named_server_limit_per_user = 20
    # after signing in on the hub's page, land signed in to the portal (its login is one redirect)
    c.JupyterHub.default_url = "/services/portal/login?next=/services/portal/"
    c.JupyterHub.template_paths = [str(ROOT / "open_portal" / "hub_templates")]
    c.JupyterHub.template_vars = {"announcement_login": "公共数据沙箱 · Public Data Sandbox"}

    if settings.demo:
        c.JupyterHub.authenticator_class = "open_portal.accounts.DemoAuthenticator"
        c.DemoAuthenticator.password_file = str(secrets_dir / "demo_passwords.json")
        c.Authenticator.allowed_users = set(DEMO_NAMES)
        c.Authenticator.admin_users = {"admin"}
    else:
        oidc = check_production(settings)
        c.JupyterHub.authenticator_class = "generic-oauth"
        c.GenericOAuthenticator.client_id = oidc.client_id
        c.GenericOAuthenticator.client_secret = oidc.client_secret.get_secret_value()
        c.GenericOAuthenticator.authorize_url = oidc.authorize_url
        c.GenericOAuthenticator.token_url = oidc.token_url
        c.GenericOAuthenticator.userdata_url = oidc.userdata_url
        c.GenericOAuthenticator.oauth_callback_url = oidc.callback_url
        c.GenericOAuthenticator.username_claim = oidc.username_claim
        c.GenericOAuthenticator.scope = oidc.scope
        c.GenericOAuthenticator.allow_all = True  # what each user may do is the Casbin policy's

    configure_origins(c, origins(settings))
    configure_spawner(c, settings)

    culler, culler_role = idle_culler_service(timeout=settings.idle_timeout, every=300)
    c.JupyterHub.services = [
        {
            "name": "portal",
            "url": f"http://127.0.0.1:{settings.portal_port}",
            "command": [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "open_portal.app:create_app_from_environment",
                "--host",
                "127.0.0.1",
                "--port",
                str(settings.portal_port),
                "--log-level",
                "warning",
            ],
            "environment": service_environment(settings),
            "oauth_no_confirm": True,
            "display": True,
            "info": {"zh": "数据门户", "en": "Data portal"},
        },
        culler,
    ]
    c.JupyterHub.load_roles = [
        {
            "name": "portal",
            "scopes": ["read:users", "read:servers", "delete:servers", "admin:server_state"],
            "services": ["portal"],
        },
        culler_role,
        {"name": "user", "scopes": ["self", "access:services!service=portal"]},
    ]


def configure_origins(c: Any, where: Origins) -> None:
    """User servers on their own origins (``subdomain_host``); the hub and the portal answer only
    on the public host, so no hub page (its login form, its API with the hub's cookie) is ever
    served from a workspace's origin. Hub and portal cookies are host-only."""
    c.JupyterHub.public_url = where.public + "/"
    c.JupyterHub.subdomain_host = where.public
    c.JupyterHub.subdomain_hook = where.subdomain_hook()
    c.JupyterHub.hub_routespec = f"{where.public_host}/"
    # __Host- cookies cannot be set for a parent domain by anyone (needs https)
    c.JupyterHub.cookie_host_prefix_enabled = where.https


def configure_spawner(c: Any, settings: HubSettings) -> None:
    """Workspaces are spawned by the sandbox spawner, one isolated server per active grant."""
    c.JupyterHub.spawner_class = "pds-sandbox"
    c.SandboxSpawner.grant_provider = "open_portal.workspaces:workspace_grant"
    c.SandboxSpawner.portal_url = f"http://127.0.0.1:{settings.portal_port}"
    c.SandboxSpawner.credential_issuer = "open_portal.workspaces:issue_credential"
    c.SandboxSpawner.credential_revoker = "open_portal.workspaces:revoke_credential"
    c.Spawner.http_timeout = 60
    c.Spawner.poll_interval = 10  # a suspended grant stops its workspace within 10 s at worst
