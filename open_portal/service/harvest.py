"""Federation (一本账 across levels): admins register other catalogs, which are harvested.

A harvest reads the whole source first and then replaces that source's datasets in one
transaction, so a source that is down or answers garbage changes nothing but its status line,
and harvesting twice changes nothing. Harvested datasets are metadata with a link back; no data
is ever copied.
"""

from __future__ import annotations

import logging
from dataclasses import astuple
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from open_portal import permissions
from open_portal.exceptions import InvalidInput, NotFound
from open_portal.harvesting import HarvestError, RemoteDataset, check_url, read_source
from open_portal.models import HarvestedDataset, HarvestSource, HarvestStatus, SourceKind
from open_portal.service.auditing import record
from open_portal.service.context import Portal

log = logging.getLogger(__name__)


def _kind(value: str) -> SourceKind:
    try:
        return SourceKind(value)
    except ValueError:
        raise InvalidInput(
            "the kind of a source is dcat or ckan", zh="来源类型须为 dcat 或 ckan"
        ) from None


def register_source(
    portal: Portal, *, actor: str, url: str, kind: str, title: str, interval_minutes: int = 60
) -> HarvestSource:
    """Register a catalog to harvest; an address is registered once."""
    permissions.check_can_manage_platform(portal.policy, actor)
    try:
        url = check_url(url)
    except HarvestError as exc:
        raise InvalidInput(str(exc), zh=exc.message_zh) from None
    title = title.strip()
    if not 1 <= len(title) <= 256:
        raise InvalidInput(
            "give the source a name of 1-256 characters", zh="来源名称须为 1-256 个字符"
        )
    if not 5 <= interval_minutes <= 60 * 24 * 30:
        raise InvalidInput(
            "harvest every 5 minutes to 30 days", zh="采集间隔须在 5 分钟到 30 天之间"
        )
    source_kind = _kind(kind)
    with portal.sessions.begin() as session:
        if session.scalar(select(HarvestSource).where(HarvestSource.url == url)) is not None:
            raise InvalidInput(f"{url} is registered already", zh=f"{url} 已登记")
        source = HarvestSource(
            url=url,
            kind=source_kind,
            title=title,
            interval_minutes=interval_minutes,
            created_by=actor,
        )
        session.add(source)
        session.flush()
        source_id = source.id
    record(portal, "harvest.source_registered", actor=actor, object=f"harvest:{source_id}", url=url)
    return source


def list_sources(portal: Portal, session: Session, *, actor: str) -> list[HarvestSource]:
    permissions.check_can_manage_platform(portal.policy, actor)
    return list(session.scalars(select(HarvestSource).order_by(HarvestSource.id)))


def harvest(portal: Portal, *, actor: str, source_id: int) -> HarvestSource:
    """Harvest one source now (an admin's action, or ``system`` on schedule)."""
    if actor != "system":
        permissions.check_can_manage_platform(portal.policy, actor)
    with portal.sessions() as session:
        source = session.get(HarvestSource, source_id)
        if source is None:
            raise NotFound(f"no harvest source {source_id}", zh=f"没有采集来源 {source_id}")
        url, kind = source.url, source.kind
    try:
        found = read_source(url, kind)
    except HarvestError as exc:
        return _failed(portal, actor=actor, source_id=source_id, message=exc.bilingual())
    try:
        with portal.sessions.begin() as session:
            source = session.get(HarvestSource, source_id)
            assert source is not None
            changed = replace_datasets(session, source, found)
            source.status = HarvestStatus.OK
            source.message = ""
            source.dataset_count = len(found)
            source.last_run_at = portal.clock()
    except InvalidInput as exc:  # what the source sent cannot be kept (NUL in its text)
        return _failed(
            portal, actor=actor, source_id=source_id, message=f"{exc.message_zh} / {exc}"
        )
    record(
        portal,
        "harvest.completed",
        actor=actor,
        object=f"harvest:{source_id}",
        datasets=len(found),
        changed=changed,
    )
    return source


def _failed(portal: Portal, *, actor: str, source_id: int, message: str) -> HarvestSource:
    with portal.sessions.begin() as session:
        source = session.get(HarvestSource, source_id)
        assert source is not None
        source.status = HarvestStatus.FAILED
        source.message = message[:1000]
        source.last_run_at = portal.clock()
    record(portal, "harvest.failed", actor=actor, object=f"harvest:{source_id}", reason=message)
    return source


FIELDS = (
    "title_zh",
    "title_en",
    "landing_url",
    "description",
    "publisher",
    "theme",
    "keywords",
    "modified",
)


def replace_datasets(session: Session, source: HarvestSource, found: list[RemoteDataset]) -> int:
    """Make the source's datasets exactly ``found``; returns how many rows changed."""
    current = {d.remote_id: d for d in source.datasets}
    changed = 0
    for item in found:
        row = current.pop(item.remote_id, None)
        values = dict(zip(FIELDS, astuple(item)[1:], strict=True))
        values["keywords"] = list(item.keywords)
        if row is None:
            source.datasets.append(HarvestedDataset(remote_id=item.remote_id, **values))
            changed += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            changed += 1
    for gone in current.values():
        source.datasets.remove(gone)
        changed += 1
    return changed


def due(portal: Portal, now: datetime | None = None) -> list[int]:
    """Ids of the sources whose next harvest is due."""
    now = now or portal.clock()
    with portal.sessions() as session:
        return [
            s.id
            for s in session.scalars(select(HarvestSource))
            if s.last_run_at is None or s.last_run_at + timedelta(minutes=s.interval_minutes) <= now
        ]


def harvest_due(portal: Portal) -> None:
    """Harvest every source that is due (the portal's schedule calls this)."""
    for source_id in due(portal):
        try:
            harvest(portal, actor="system", source_id=source_id)
        except Exception:  # one bad source must not stop the others
            log.exception("harvesting source %s failed", source_id)


def search(session: Session, *, q: str = "", source: str = "") -> list[HarvestedDataset]:
    """Harvested datasets matching every term of ``q`` (and one source, if given)."""
    terms = [t.lower() for t in q.split() if t]
    rows = session.scalars(select(HarvestedDataset).order_by(HarvestedDataset.id)).all()
    found = []
    for row in rows:
        if source and str(row.source_id) != source:
            continue
        text = " ".join(
            [row.remote_id, row.title_zh, row.title_en, row.description, row.theme, *row.keywords]
        ).lower()
        if all(t in text for t in terms):
            found.append(row)
    return found
