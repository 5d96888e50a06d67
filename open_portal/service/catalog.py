"""Catalog: publishing datasets into the vault, confirming their policy, searching them."""

from __future__ import annotations

import io
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

import desensitize
from desensitize.tableio import COLUMN_TYPES, check_column_types, infer_column_types
from open_portal import ledger, permissions, vocabularies
from open_portal.exceptions import Forbidden, InvalidInput, NotFound
from open_portal.models import OPEN_CLASS_OF_LEVEL, Dataset, DatasetVersion, Level, Release
from open_portal.schemas import DatasetMeta
from open_portal.service import assessment, detection
from open_portal.service.auditing import record
from open_portal.service.context import Portal
from open_portal.vault import sha256_hex

FORMATS = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx"}
FACETS = ("publisher", "theme", "level", "open_class")


def file_format(file_name: str) -> str:
    suffix = Path(file_name).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"{file_name}: unsupported file type {suffix or '(none)'}; upload CSV, Parquet or Excel (.xlsx)",
            zh=f"{file_name}：不支持的文件类型，请上传 CSV、Parquet 或 Excel (.xlsx)",
        )
    return FORMATS[suffix]


@contextmanager
def private_copy(content: bytes, suffix: str) -> Iterator[Path]:
    """The bytes as a file in a private temporary directory, removed afterwards."""
    memory = Path("/dev/shm")  # raw data stays in memory where a tmpfs is at hand
    directory = Path(tempfile.mkdtemp(prefix="pds-", dir=memory if memory.is_dir() else None))
    try:
        path = directory / f"data{suffix}"
        path.write_bytes(content)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class Department:
    """A department in which someone holds the owner role, with its names as published."""

    code: str
    name_zh: str
    name_en: str


def owner_departments(portal: Portal, session: Session, *, actor: str) -> list[Department]:
    """The departments the actor may publish for (owner role in ``dept:<code>``), named as
    their datasets already name them (the code when none does)."""
    codes = permissions.publishing_departments(portal.policy, actor)
    named = {}
    for dataset in session.scalars(select(Dataset).where(Dataset.publisher.in_(codes))):
        if dataset.publisher_name_zh and dataset.publisher not in named:
            named[dataset.publisher] = (dataset.publisher_name_zh, dataset.publisher_name_en)
    return [Department(c, *named.get(c, (c, c))) for c in codes]


def _check_vocabulary(meta: DatasetMeta) -> None:
    """Theme and update frequency come from the controlled vocabularies DCAT-AP speaks."""
    if meta.theme and vocabularies.theme(meta.theme) is None:
        codes = ", ".join(vocabularies.THEMES)
        raise InvalidInput(
            f"unknown theme {meta.theme!r}: choose an EU data theme ({codes})",
            zh=f"未知的主题 {meta.theme}，请从数据主题中选择（{codes}）",
        )
    if meta.update_frequency and vocabularies.frequency(meta.update_frequency) is None:
        names = ", ".join(t.en for t in vocabularies.FREQUENCIES.values())
        raise InvalidInput(
            f"unknown update frequency {meta.update_frequency!r}: choose one of {names}",
            zh=f"未知的更新频率 {meta.update_frequency}，请选择"
            f"{'、'.join(t.zh for t in vocabularies.FREQUENCIES.values())}之一",
        )


def publish_dataset(
    portal: Portal, *, actor: str, meta: DatasetMeta, file_name: str, content: bytes
) -> Dataset:
    """Create a catalog entry with its first version sealed in the vault and a proposed policy."""
    with portal.sessions() as session:
        departments = {d.code: d for d in owner_departments(portal, session, actor=actor)}
    if meta.publisher not in departments and departments:
        raise Forbidden(
            f"you are not a data owner of department {meta.publisher!r}: publish for one of "
            f"yours ({', '.join(departments)})",
            zh=f"您不是部门 {meta.publisher} 的数据提供方，请选择您所在的部门"
            f"（{'、'.join(d.name_zh for d in departments.values())}）",
        )
    permissions.check_can_publish_dataset(portal.policy, actor, meta.publisher)
    _check_vocabulary(meta)
    department = departments.get(meta.publisher)
    if department and not meta.publisher_name_zh and department.name_zh != department.code:
        meta = meta.model_copy(
            update={
                "publisher_name_zh": department.name_zh,
                "publisher_name_en": department.name_en,
            }
        )
    with portal.sessions.begin() as session:
        if session.get(Dataset, meta.id) is not None:
            raise InvalidInput(
                f"a dataset with id {meta.id!r} exists already", zh=f"数据集 {meta.id} 已存在"
            )
        dataset = Dataset(
            **meta.model_dump(exclude={"columns"}),
            columns=[c.model_dump() for c in meta.columns],
            owner=actor,
            open_class=OPEN_CLASS_OF_LEVEL[meta.level],
            issued=portal.clock(),
            modified=portal.clock(),
        )
        session.add(dataset)
        version = _add_version(portal, session, dataset, actor, file_name, content)
        record(
            portal,
            "dataset.published",
            actor=actor,
            object=f"dataset:{dataset.id}",
            version=version.number,
            level=dataset.level.value,
            raw_sha256=version.raw_sha256,
            rows=version.rows,
        )
    detection.start_detection(portal, version_id=version.id)
    return dataset


def upload_version(
    portal: Portal, *, actor: str, dataset_id: str, file_name: str, content: bytes
) -> DatasetVersion:
    """A new version of an existing dataset; its policy must be confirmed again."""
    with portal.sessions.begin() as session:
        dataset = get_dataset(portal, session, actor=actor, dataset_id=dataset_id)
        permissions.check_can_update_dataset(portal.policy, actor, dataset)
        version = _add_version(portal, session, dataset, actor, file_name, content)
        dataset.modified = portal.clock()
        record(
            portal,
            "dataset.version_uploaded",
            actor=actor,
            object=f"dataset:{dataset.id}",
            version=version.number,
            raw_sha256=version.raw_sha256,
        )
    detection.start_detection(portal, version_id=version.id)
    return version


def _add_version(
    portal: Portal, session: Session, dataset: Dataset, actor: str, file_name: str, content: bytes
) -> DatasetVersion:
    fmt = file_format(file_name)
    with private_copy(content, Path(file_name).suffix.lower()) as path:
        try:
            frame = desensitize.read_table(path)
            rows = frame.select(pl.len()).collect().item()
            scan = desensitize.scan_table(path)
            types = infer_column_types(frame, identifiers={c.name for c in scan.identifiers})
        except desensitize.Error as exc:
            raise InvalidInput(
                f"{file_name} does not parse: {exc}", zh=f"文件 {file_name} 无法解析：{exc}"
            ) from None
    proposed = desensitize.default_policy(
        scan, level=dataset.level.value if dataset.level != Level.L4 else "L2"
    )
    number = len(dataset.versions) + 1
    wrapped = portal.vault.new_wrapped_key()
    portal.vault.seal(f"{dataset.id}-v{number}.{fmt}", content, wrapped)
    version = DatasetVersion(
        number=number,
        file_name=Path(file_name).name,
        file_format=fmt,
        raw_sha256=sha256_hex(content),
        rows=int(rows),
        wrapped_key=wrapped,
        scan=scan.to_json(),
        policy_yaml=proposed.to_yaml(),
        column_types=types,
        uploaded_by=actor,
    )
    dataset.versions.append(version)
    if not dataset.columns:  # the columns read from the file, with their types, for the catalog
        dataset.columns = [{"name": name, "type": kind} for name, kind in types.items()]
    session.flush()
    return version


def raw_bytes(portal: Portal, version: DatasetVersion) -> bytes:
    """The decrypted raw file of a version (portal process only)."""
    return portal.vault.open(
        f"{version.dataset_id}-v{version.number}.{version.file_format}", version.wrapped_key
    )


def raw_frame(portal: Portal, version: DatasetVersion) -> pl.LazyFrame:
    """The raw data of a version as a LazyFrame, read from memory, never from a plain file."""
    data = raw_bytes(portal, version)
    if version.file_format == "csv":
        return pl.read_csv(io.BytesIO(data), infer_schema_length=10000).lazy()
    if version.file_format == "parquet":
        return pl.read_parquet(io.BytesIO(data)).lazy()
    return pl.read_excel(io.BytesIO(data)).lazy()


def confirm_policy(
    portal: Portal,
    *,
    actor: str,
    dataset_id: str,
    policy_yaml: str,
    column_types: dict[str, str] | None = None,
) -> DatasetVersion:
    """The owner confirms (or edits) the desensitization policy of the latest version, and the
    type of its columns in releases (``None`` keeps the inferred ones).

    For an L1 dataset this publishes the desensitized release with its assessment report; for
    the other levels the assessment is made in the background (:mod:`.assessment`).
    """
    with portal.sessions.begin() as session:
        dataset = get_dataset(portal, session, actor=actor, dataset_id=dataset_id)
        permissions.check_can_update_dataset(portal.policy, actor, dataset)
        version = dataset.latest
        if version is None:
            raise InvalidInput("the dataset has no uploaded version", zh="该数据集尚未上传数据")
        try:
            policy = desensitize.Policy.from_yaml(policy_yaml)
            desensitize.validate_policy(policy, desensitize.TableScan.from_json(version.scan))
        except desensitize.Error as exc:
            raise InvalidInput(f"policy rejected: {exc}", zh=f"脱敏策略无效：{exc}") from None
        if column_types is not None:
            version.column_types = _checked_types(portal, version, column_types)
        dataset.columns = [
            {**c, "type": version.column_types.get(c["name"], c.get("type", "string"))}
            for c in dataset.columns
        ]
        version.policy_yaml = policy.to_yaml()
        version.policy_confirmed = True
        record(
            portal,
            "dataset.policy_confirmed",
            actor=actor,
            object=f"dataset:{dataset.id}",
            version=version.number,
            policy_sha256=sha256_hex(version.policy_yaml.encode()),
            column_types=version.column_types,
        )
        if dataset.level == Level.L1:
            release = build_release(
                portal, session, version, grant_id=None, key=secrets.token_bytes(32)
            )
            record(
                portal,
                "release.published",
                actor=actor,
                object=f"dataset:{dataset.id}",
                version=version.number,
                sha256=release.sha256,
                report_sha256=release.report.get("output_sha256", ""),
            )
            version.assessment = release.report
        else:
            version.assessment = {}
    if dataset.level != Level.L1:
        assessment.start_assessment(portal, version_id=version.id)
    return version


def _checked_types(
    portal: Portal, version: DatasetVersion, wanted: dict[str, str]
) -> dict[str, str]:
    """The inferred types with the owner's choices applied, once every value of the raw file is
    shown to fit them; a column with personal data stays text."""
    scan = desensitize.TableScan.from_json(version.scan)
    identifiers = {c.name for c in scan.identifiers}
    for name, kind in wanted.items():
        if kind not in COLUMN_TYPES:
            raise InvalidInput(
                f"unknown column type {kind!r}; use one of {', '.join(COLUMN_TYPES)}",
                zh=f"未知的字段类型 {kind}，可选：{', '.join(COLUMN_TYPES)}",
            )
        if name in identifiers and kind != "string":
            raise InvalidInput(
                f"column {name!r} holds personal data and stays text",
                zh=f"字段 {name} 含个人信息，只能保留为文本",
            )
    types = {**version.column_types, **wanted}
    with private_copy(raw_bytes(portal, version), f".{version.file_format}") as path:
        try:
            check_column_types(desensitize.read_table(path), types)
        except desensitize.Error as exc:
            raise InvalidInput(
                f"column types rejected: {exc}", zh=f"字段类型与数据不符：{exc}"
            ) from None
    return types


def build_release(
    portal: Portal,
    session: Session,
    version: DatasetVersion,
    *,
    grant_id: str | None,
    key: bytes,
    out_dir: Path | None = None,
) -> Release:
    """Desensitize a version with its confirmed policy into the releases directory.

    The free text it redacts is redacted from the spans kept for the version (found now if none
    are kept yet: see :mod:`open_portal.service.detection`).
    """
    if out_dir is None:
        out_dir = (
            portal.settings.releases_dir / "public" / version.dataset_id / f"v{version.number}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{version.dataset_id}.parquet"
    policy = desensitize.Policy.from_yaml(version.policy_yaml)
    redacted = [n for n, r in policy.columns.items() if r.action == desensitize.Action.REDACT]
    spans = detection.kept_spans(portal, version_id=version.id, columns=redacted)
    with private_copy(raw_bytes(portal, version), f".{version.file_format}") as src:
        report = desensitize.desensitize_table(
            src,
            out,
            policy=policy,
            key=key,
            column_types=version.column_types,
            text_spans=spans,
        )
    release = Release(
        version_id=version.id,
        grant_id=grant_id,
        path=str(out),
        sha256=sha256_hex(out.read_bytes()),
        report=report.to_json(),
    )
    session.add(release)
    session.flush()
    return release


def public_release(session: Session, dataset: Dataset) -> Release | None:
    """The newest published release of an L1 dataset."""
    if dataset.level != Level.L1:
        return None
    return session.scalars(
        select(Release)
        .join(DatasetVersion, Release.version_id == DatasetVersion.id)
        .where(DatasetVersion.dataset_id == dataset.id, Release.grant_id.is_(None))
        .order_by(Release.id.desc())
    ).first()


def download_release(portal: Portal, *, actor: str, dataset_id: str) -> tuple[Path, Release]:
    """The published file of an L1 dataset: no application needed, every download logged."""
    with portal.sessions.begin() as session:
        dataset = get_dataset(portal, session, actor=actor, dataset_id=dataset_id)
        permissions.check_can_download_open_release(portal.policy, actor, dataset)
        release = public_release(session, dataset)
        if release is None:
            raise NotFound(
                "this dataset has no published release yet", zh="该数据集尚无已发布的开放版本"
            )
        record(
            portal,
            "release.downloaded",
            actor=actor,
            object=f"dataset:{dataset.id}",
            sha256=release.sha256,
        )
        return Path(release.path), release


def set_privacy_budget(
    portal: Portal,
    *,
    actor: str,
    dataset_id: str,
    total: str,
    per_person: str | None = None,
) -> ledger.DatasetBalance:
    """The owner sets the dataset's total ε, shared by all its grants, and optionally a cap per
    person across their grants; never below what is spent already."""
    with portal.sessions.begin() as session:
        dataset = get_dataset(portal, session, actor=actor, dataset_id=dataset_id)
        permissions.check_can_update_dataset(portal.policy, actor, dataset)
        if dataset.level not in (Level.L2, Level.L3):
            raise InvalidInput(
                f"{dataset_id} is {dataset.level.value}: privacy budgets are for L2 and L3 data",
                zh=f"{dataset_id} 为 {dataset.level.value} 级，隐私预算仅适用于 L2、L3 级数据",
            )
        state = ledger.set_dataset_budget(
            session, dataset_id, total, per_person=per_person or None, now=portal.clock()
        )
        record(
            portal,
            "dataset.budget_set",
            actor=actor,
            object=f"dataset:{dataset_id}",
            total=str(state.budget),
            per_person=None if state.per_person is None else str(state.per_person),
            spent=str(state.spent),
        )
    return state


def budget_view(state: ledger.DatasetBalance | None) -> dict[str, str | None] | None:
    """What reviewers and owners see of a dataset's total budget (``None``: no total set)."""
    if state is None:
        return None
    return {
        "total": str(state.budget),
        "spent": str(state.spent),
        "remaining": str(state.remaining),
        "per_person": None if state.per_person is None else str(state.per_person),
    }


def get_dataset(portal: Portal, session: Session, *, actor: str, dataset_id: str) -> Dataset:
    """A dataset the actor may see; unknown and hidden (L4, draft) datasets look the same."""
    dataset = visible_dataset(portal, session, actor=actor, dataset_id=dataset_id)
    if dataset is None:
        raise dataset_not_found(dataset_id)
    return dataset


def visible_dataset(
    portal: Portal, session: Session, *, actor: str, dataset_id: str
) -> Dataset | None:
    """The dataset if it exists and the policy lets the actor see it in the catalog."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or not permissions.can_read_dataset(portal.policy, actor, dataset):
        return None
    return dataset


def dataset_not_found(dataset_id: str) -> NotFound:
    """The one answer for a dataset that does not exist or that the caller may not see."""
    return NotFound(f"no dataset {dataset_id!r}", zh=f"没有数据集 {dataset_id}")


@dataclass
class SearchResult:
    total: int
    datasets: list[Dataset]
    facets: dict[str, Counter[str]] = field(default_factory=dict)


def publisher_names(session: Session) -> dict[str, tuple[str, str]]:
    """Each publisher id of the catalog with its Chinese and English names."""
    rows = session.execute(
        select(Dataset.publisher, Dataset.publisher_name_zh, Dataset.publisher_name_en)
    )
    return {p: (zh or p, en or p) for p, zh, en in rows}


def facet_value(dataset: Dataset, name: str) -> str:
    value = getattr(dataset, name)
    return str(value.value if hasattr(value, "value") else value)


def search(
    portal: Portal,
    session: Session,
    *,
    actor: str,
    q: str = "",
    filters: dict[str, list[str]] | None = None,
    start: int = 0,
    rows: int = 20,
    sort: str = "title_en asc",
) -> SearchResult:
    """Full-text search over visible datasets, with facet counts and paging."""
    filters = filters or {}
    unknown = set(filters) - set(FACETS)
    if unknown:
        raise InvalidInput(
            f"unknown filter field {sorted(unknown)[0]!r}; use one of {', '.join(FACETS)}"
        )
    visible = [
        d
        for d in session.scalars(select(Dataset)).all()
        if permissions.can_read_dataset(portal.policy, actor, d)
    ]
    terms = [t.lower() for t in q.split() if t]

    def matches(d: Dataset) -> bool:
        text = " ".join(
            [
                d.id,
                d.title_zh,
                d.title_en,
                d.description_zh,
                d.description_en,
                d.theme,
                *map(str, d.keywords),
            ]
        ).lower()
        return all(t in text for t in terms) and all(
            facet_value(d, name) in wanted for name, wanted in filters.items() if wanted
        )

    found = [d for d in visible if matches(d)]
    key, _, direction = sort.partition(" ")
    if key not in {"title_en", "title_zh", "modified", "issued", "id"}:
        raise InvalidInput(f"cannot sort by {key!r}", zh=f"不能按 {key} 排序")
    found.sort(key=lambda d: getattr(d, key), reverse=direction.strip().lower() == "desc")
    facets = {name: Counter(facet_value(d, name) for d in found) for name in FACETS}
    return SearchResult(total=len(found), datasets=found[start : start + rows], facets=facets)
