"""``make run``: prepare the data directory, demo accounts and data, then start the hub.

The hub starts the proxy and the portal (a hub-managed service); this process becomes the hub.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from open_portal.exceptions import Error
from open_portal.hub import DEMO_NAMES, ROOT, HubSettings, check_production


def prepare(settings: HubSettings) -> str | None:
    """Migrate, and in demo mode create demo accounts and data; returns the demo password."""
    from open_portal import accounts, demo
    from open_portal.service.context import open_portal

    password = None
    if settings.demo:
        given = settings.demo_password.get_secret_value() if settings.demo_password else ""
        password = given or accounts.generate_password()
        if len(password) < 8:
            raise Error("PDS_DEMO_PASSWORD must be at least 8 characters")
        accounts.write_password_file(
            settings.secrets_dir / "demo_passwords.json", list(DEMO_NAMES), password
        )
    else:
        check_production(settings)
    portal = open_portal(settings)
    try:
        if settings.demo:
            demo.ensure_demo_accounts(portal)
            published = demo.ensure_demo_data(portal)
            if published:
                print(f"demo data published: {', '.join(published)}", flush=True)
    finally:
        portal.close()
    return password


def banner(settings: HubSettings, password: str | None) -> str:
    url = settings.public_url or f"http://127.0.0.1:{settings.port}"
    lines = [
        "",
        "  Public Data Sandbox 公共数据沙箱",
        f"  open / 打开:  {url}/services/portal/",
        f"  data / 数据:  {settings.data_dir}",
    ]
    if password is not None:
        lines.append("  demo accounts / 演示账号 (one per role / 每个角色一个):")
        lines.append("    " + ", ".join(DEMO_NAMES))
        lines.append(f"  password / 密码:  {password}")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    try:
        settings = HubSettings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        password = prepare(settings)
    except Error as exc:
        print(f"pds: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except ValueError as exc:  # pydantic settings errors
        first = str(exc).splitlines()
        print(f"pds: error: invalid setting: {' '.join(first[:3])}", file=sys.stderr)
        raise SystemExit(2) from None
    print(banner(settings, password), flush=True)
    # The hub's working directory holds only its own files: no directory there may shadow a
    # package name (the data directory has an ``audit`` folder, for one).
    workdir = settings.data_dir / "hub"
    workdir.mkdir(exist_ok=True)
    os.chdir(workdir)
    hub = Path(sys.executable).with_name("jupyterhub")
    config = str(ROOT / "jupyterhub_config.py")
    os.execv(str(hub), [str(hub), "-f", config, "--log-level", "WARN"])


if __name__ == "__main__":
    main()
