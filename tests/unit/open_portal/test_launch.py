"""Bad settings stop the launcher with one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def launch(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PDS_")}
    full.update(
        {"PDS_DATA_DIR": str(tmp_path / "var"), "PDS_DEMO_PASSWORD": "demo-password-1", **env}
    )
    return subprocess.run(
        [sys.executable, "-m", "open_portal.launch"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"PDS_PORT": "eighty"}, "invalid setting"),
        ({"PDS_PORT": "99999"}, "invalid setting"),
        ({"PDS_DATABASE_URL": "mysql://root@127.0.0.1/test"}, "PDS_DATABASE_URL must be"),
        (
            {"PDS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
            "cannot reach the database",
        ),
        ({"PDS_DEMO": "false", "PDS_DEMO_PASSWORD": "x"}, "refusing to start outside demo mode"),
        ({"PDS_DEMO": "false"}, "PDS_COOKIE_SECRET"),
        ({"PDS_DEMO_PASSWORD": "short"}, "at least 8 characters"),
    ],
)
def test_bad_settings(tmp_path: Path, env: dict[str, str], says: str) -> None:
    if env.get("PDS_DEMO") == "false" and "PDS_DEMO_PASSWORD" not in env:
        env = {**env, "PDS_DEMO_PASSWORD": ""}
    result = launch(tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pds: error:")
    assert says in lines[0]
    assert "Traceback" not in result.stderr


def test_production_mode_names_every_missing_secret(tmp_path: Path) -> None:
    result = launch(tmp_path, PDS_DEMO="false", PDS_DEMO_PASSWORD="", PDS_COOKIE_SECRET="a" * 40)
    assert result.returncode == 2
    line = result.stderr.strip()
    for name in (
        "PDS_COOKIE_SECRET",
        "JUPYTERHUB_CRYPT_KEY",
        "PDS_OIDC_CLIENT_ID",
        "PDS_OIDC_TOKEN_URL",
    ):
        assert name in line
