"""The holding area: the copies taken of export files, sealed in the vault under the grant's key.

``$PDS_DATA_DIR/exports/<grant>/<request>/<file>.v<version>`` is a vault file (AES-256-GCM with
the grant's own data key, the key that also makes its pseudonyms; the file's name is bound as
associated data). Opening checks the SHA-256 recorded when the copy was taken, so a copy moved
from another file or changed on disk does not open; once the grant's key is erased, no copy left
anywhere can be read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from open_portal.exceptions import Error, Forbidden, NotFound
from open_portal.models import ExportFile, ExportRequest, Grant
from open_portal.service.context import Portal
from open_portal.vault import Vault, VaultError, sha256_hex

HOLDING = "exports"


def holding_dir(portal: Portal, grant_id: str) -> Path:
    """Where copies of a grant's export files are held, sealed under the grant's key."""
    return portal.settings.data_dir / HOLDING / grant_id


def _vault(portal: Portal, grant_id: str, request_id: int) -> Vault:
    return Vault(holding_dir(portal, grant_id) / str(request_id), portal.vault.master_key)


def _name(file: ExportFile) -> str:
    return f"{file.id}.v{file.version}"


def path_of(portal: Portal, grant_id: str, file: ExportFile) -> Path:
    """The sealed copy of the file's current version."""
    return holding_dir(portal, grant_id) / str(file.request_id) / _name(file)


def _wrapped_key(grant: Grant) -> bytes:
    if grant.wrapped_key is None:
        raise Forbidden(
            "the grant's key was erased: its export files can no longer be read",
            zh="授权密钥已销毁，导出文件无法再读取",
        )
    return grant.wrapped_key


def seal(portal: Portal, grant: Grant, file: ExportFile, data: bytes) -> None:
    """Seal ``data`` as the held copy of the file's current version."""
    holding_dir(portal, grant.id).mkdir(parents=True, exist_ok=True, mode=0o700)
    _vault(portal, grant.id, file.request_id).seal(_name(file), data, _wrapped_key(grant))


def unseal(portal: Portal, grant: Grant, file: ExportFile) -> bytes:
    """The held copy, authenticated and matching the SHA-256 taken with it."""
    key = _wrapped_key(grant)
    try:
        data = _vault(portal, grant.id, file.request_id).open(_name(file), key)
    except FileNotFoundError:
        raise NotFound(f"{file.name} is no longer held", zh=f"{file.name} 已不在暂存区") from None
    except VaultError as exc:
        raise Error(
            f"the held copy of {file.name} does not authenticate",
            zh=f"{file.name} 的暂存副本校验失败",
        ) from exc
    if sha256_hex(data) != file.sha256:
        raise Error(f"the held copy of {file.name} changed", zh=f"{file.name} 的暂存副本已被改动")
    return data


def remove(portal: Portal, grant_id: str, file: ExportFile) -> None:
    path_of(portal, grant_id, file).unlink(missing_ok=True)


def discard(portal: Portal, request: ExportRequest) -> None:
    """Remove every held copy of the request (withdrawn or rejected)."""
    for file in request.files:
        remove(portal, request.grant_id, file)


def drop_request(portal: Portal, grant_id: str, request_id: int) -> None:
    """Remove the request's holding directory (a request that failed while being created)."""
    shutil.rmtree(holding_dir(portal, grant_id) / str(request_id), ignore_errors=True)
