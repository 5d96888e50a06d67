"""What a workspace pod does before its server starts (Kubernetes): what ``SandboxSpawner`` writes
on one host, written by the pod into the member's own home (its volume), then the server.

Run as the pod's command, ``python3 -m sandbox.podstart jupyterhub-singleuser ...``:

- ``~/outbox/`` for the files of export requests;
- ``~/welcome.ipynb`` from ``PDS_WELCOME_NOTEBOOK`` (its base64, made by the hub's pre-spawn
  hook from the grant), unless one is there: a member's edited notebook is kept;
- JupyterLab's language (``PDS_LANG``) and no news or update checks, as the member's own lab
  settings, unless the member chose otherwise already.

Only the standard library: the workspace image need not hold the hub's packages.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

NOTEBOOK = "welcome.ipynb"
LAB_LOCALE = {"zh": "zh_CN", "en": "en"}
SETTINGS = {
    "@jupyterlab/translation-extension/plugin.jupyterlab-settings": "locale",
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": "notification",
}


def _write_new(path: Path, data: bytes) -> bool:
    """Write ``path`` unless an entry (a file or a link) is there; True if written."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return True


def _lab_setting(kind: str, lang: str) -> dict[str, object]:
    if kind == "locale":
        return {"locale": LAB_LOCALE[lang]}
    return {"fetchNews": "false", "checkForUpdates": False}


def prepare(home: Path, environ: Mapping[str, str]) -> list[str]:
    """Make the member's home ready; the names of what was written."""
    written = []
    (home / "outbox").mkdir(mode=0o700, exist_ok=True)
    try:
        notebook = base64.b64decode(environ.get("PDS_WELCOME_NOTEBOOK", ""), validate=True)
    except binascii.Error:
        notebook = b""  # no welcome rather than no workspace
    if notebook and _write_new(home / NOTEBOOK, notebook):
        written.append(NOTEBOOK)
    lang = environ.get("PDS_LANG", "zh")
    lang = lang if lang in LAB_LOCALE else "zh"
    config = Path(environ.get("JUPYTER_CONFIG_DIR", str(home / ".jupyter")))
    settings = Path(environ.get("JUPYTERLAB_SETTINGS_DIR", str(config / "lab" / "user-settings")))
    for name, kind in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _write_new(path, json.dumps(_lab_setting(kind, lang)).encode()):
            written.append(name)
    return written


def main(argv: list[str]) -> None:
    """Prepare the home named by ``$HOME``, then become the server (``argv``)."""
    if not argv:
        raise SystemExit("usage: python3 -m sandbox.podstart COMMAND [ARG ...]")
    prepare(Path(os.environ["HOME"]), os.environ)
    os.environ.pop("PDS_WELCOME_NOTEBOOK", None)  # kernels need not carry it
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
