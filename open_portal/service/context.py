"""The portal's working parts, opened once per process and handed to every service call."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import policies
from audit import AuditLog
from open_portal.config import PortalSettings, make_private_dir
from open_portal.db import make_engine, migrate, session_factory
from open_portal.models import utcnow
from open_portal.vault import Vault, load_or_create_master_key
from policies.store import seed_default_policy


@dataclass
class Portal:
    """Settings, database, policy, audit log and vault of one running portal."""

    settings: PortalSettings
    engine: Engine
    sessions: sessionmaker[Session]
    policy: policies.Policy
    audit: AuditLog
    vault: Vault
    clock: Callable[[], datetime] = field(default=utcnow)
    audit_lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while audit events move from the outbox to the log (see ``service.auditing``)."""
    # Work that outlives a request (the detection of personal data in a new version's free
    # text), one job at a time; and a lock per dataset version held while its text is scanned.
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="pds-bg")
    )
    _version_locks: dict[int, threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    def version_lock(self, version_id: int) -> threading.Lock:
        """The lock of one dataset version's derived data (the same lock for every caller)."""
        with self._locks_guard:
            return self._version_locks.setdefault(version_id, threading.Lock())

    def close(self) -> None:
        self.background.shutdown(wait=True, cancel_futures=True)
        self.audit.close()
        self.engine.dispose()


def open_portal(settings: PortalSettings, *, run_migrations: bool = True) -> Portal:
    """Open (and migrate) the database, load the policy, open the audit log and the vault.

    Audit events committed but not yet appended (a crash in between) are appended now, and
    log entries not yet indexed (a log older than the index, other processes) are indexed.
    """
    make_private_dir(settings.data_dir)
    engine = make_engine(settings.sqlalchemy_url)
    if run_migrations:
        migrate(engine)
        seed_default_policy(engine)
    policy = policies.Policy(engine)
    master = load_or_create_master_key(settings.secrets_dir / "master.key", create=settings.demo)
    from open_portal.service import auditing

    portal = Portal(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        policy=policy,
        audit=AuditLog.open(settings.audit_dir, origin=settings.audit_origin),
        vault=Vault(settings.vault_dir, master),
    )
    auditing.install(portal)
    if run_migrations:
        auditing.flush(portal)  # events committed before a crash; entries not yet indexed
    return portal
