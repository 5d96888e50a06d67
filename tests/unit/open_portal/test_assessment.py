"""The security assessment made when a policy is confirmed, for every level: figures, access,
the page's charts and the PDF."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from factories import drained, meta, people_csv, portal_at

from open_portal import reports
from open_portal.exceptions import InvalidInput, NotFound
from open_portal.i18n import translator
from open_portal.models import Dataset, DatasetVersion, Level
from open_portal.service import assessment, catalog
from open_portal.service.context import Portal

K_POLICY = """
columns:
  name: {action: drop}
  id_number: {action: pseudonymize}
  mobile: {action: mask, keep_first: 3, keep_last: 2}
  note: {action: redact}
k_anonymity: {k: 5, quasi_identifiers: [district]}
"""


@pytest.fixture
def portal(tmp_path: Path, database_url: str) -> Iterator[Portal]:
    with portal_at(tmp_path / "data", database_url) as p:
        p.policy.assign_role("owner", "owner", "dept:market")
        yield p


def confirmed(portal: Portal, level: Level, policy: str = K_POLICY) -> DatasetVersion:
    catalog.publish_dataset(
        portal, actor="owner", meta=meta(level=level), file_name="people.csv", content=people_csv()
    )
    catalog.confirm_policy(portal, actor="owner", dataset_id="people", policy_yaml=policy)
    drained(portal)
    with portal.sessions() as session:
        version = session.get(Dataset, "people").latest  # type: ignore[union-attr]
        assert version is not None
        return version


@pytest.mark.parametrize("level", [Level.L1, Level.L2, Level.L3])
def test_every_level_gets_an_assessment_when_the_policy_is_confirmed(
    portal: Portal, level: Level
) -> None:
    version = confirmed(portal, level)
    report = version.assessment
    assert report["rows_in"] == 300
    assert report["k_anonymity"]["k_requested"] == 5 and report["k_achieved"] >= 5
    actions = {c["name"]: c["action"] for c in report["columns"]}
    assert actions["name"] == "drop" and actions["mobile"] == "mask"
    assert actions["id_number"] == "pseudonymize" and actions["district"] == "keep"
    assert report["risk"]["after"]["max_risk"] <= 1 / 5
    types = [e.type for _, e in portal.audit.entries()]
    if level == Level.L1:
        assert "release.published" in types and "dataset.assessed" not in types
    else:  # a trial run: nothing published, the figures recorded once
        assert types.count("dataset.assessed") == 1 and "release.published" not in types
        assert report["output_sha256"] == ""


def test_confirming_another_policy_makes_its_own_assessment(portal: Portal) -> None:
    confirmed(portal, Level.L2)
    stricter = K_POLICY.replace("k: 5", "k: 10")
    catalog.confirm_policy(portal, actor="owner", dataset_id="people", policy_yaml=stricter)
    drained(portal)
    with portal.sessions() as session:
        version = session.get(Dataset, "people").latest  # type: ignore[union-attr]
        assert version is not None
        assert version.assessment["k_anonymity"]["k_requested"] == 10
        assert version.assessment["k_achieved"] >= 10


@pytest.mark.parametrize(
    ("level", "actor", "sees"),
    [
        (Level.L1, "", True),  # published with its release: public
        (Level.L1, "researcher", True),
        (Level.L2, "owner", True),
        (Level.L2, "officer", True),
        (Level.L2, "admin", True),
        (Level.L2, "researcher", False),  # it describes raw data
        (Level.L2, "", False),
        (Level.L3, "officer", True),
        (Level.L3, "researcher", False),
    ],
)
def test_who_reads_the_assessment(portal: Portal, level: Level, actor: str, sees: bool) -> None:
    confirmed(portal, level)
    with portal.sessions() as session:
        dataset = session.get(Dataset, "people")
        assert dataset is not None
        if sees:
            version = assessment.assessed_version(portal, session, actor=actor, dataset=dataset)
            assert version.assessment
        else:
            with pytest.raises(NotFound):
                assessment.assessed_version(portal, session, actor=actor, dataset=dataset)


def test_no_assessment_before_a_policy_is_confirmed(portal: Portal) -> None:
    catalog.publish_dataset(
        portal, actor="owner", meta=meta(level=Level.L2), file_name="p.csv", content=people_csv()
    )
    with portal.sessions() as session:
        dataset = session.get(Dataset, "people")
        assert dataset is not None
        with pytest.raises(InvalidInput, match="no confirmed policy"):
            assessment.assessed_version(portal, session, actor="owner", dataset=dataset)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_charts_and_the_pdf_say_what_the_assessment_says(
    portal: Portal, lang: str
) -> None:
    confirmed(portal, Level.L2)
    t = translator(lang)
    with portal.sessions() as session:
        dataset = session.get(Dataset, "people")
        assert dataset is not None and dataset.latest is not None
        view = assessment.report_view(dataset, dataset.latest)
        data = reports.report_pdf(view, t, lang)
    assert view["ready"] and view["k_achieved"] >= 5
    columns = {c["name"]: c for c in view["columns"]}
    assert columns["id_number"]["entity"] == "CN_ID_CARD"
    assert "pseudonym" in columns["id_number"]["effect"]
    risk = ET.fromstring(reports.risk_svg(view["measures"], t))
    labels = [e.text for e in risk.iter("{http://www.w3.org/2000/svg}text")]
    assert t("highest re-identification risk") in labels
    bars = ET.fromstring(reports.actions_svg(view["columns"], t))
    titles = [e.text for e in bars.iter("{http://www.w3.org/2000/svg}title")]
    assert f"{t('drop')}: 1" in titles and f"{t('keep')}: 2" in titles
    assert data.startswith(b"%PDF-")
    text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().replace("\x00", "")
    text = "".join(text.split())
    assert "".join(t("Security assessment report").split()) in text
    assert "id_number" in text and "".join(t("pseudonymize").split()) in text


@pytest.mark.parametrize(
    ("values", "end"),
    [([0.0028, 0.001], 0.005), ([0.2], 0.2), ([0.51], 1.0), ([0.0], 0.0001), ([0.06], 0.1)],
)
def test_the_risk_axis_ends_at_a_round_value_above_the_largest(
    values: list[float], end: float
) -> None:
    assert reports.axis_max(values) == pytest.approx(end)


def test_a_version_confirmed_without_an_assessment_gets_one_when_the_portal_starts(
    portal: Portal,
) -> None:
    """Versions confirmed before assessments existed (or whose run was cut by a stop)."""
    version = confirmed(portal, Level.L2)
    with portal.sessions.begin() as session:
        held = session.get(DatasetVersion, version.id)
        assert held is not None
        held.assessment = {}
    assert assessment.resume_assessments(portal) == 1
    drained(portal)
    with portal.sessions() as session:
        held = session.get(DatasetVersion, version.id)
        assert held is not None and held.assessment["k_achieved"] >= 5
    assert assessment.resume_assessments(portal) == 0


def test_a_failed_assessment_is_shown_as_failed_and_retried_at_start(portal: Portal) -> None:
    version = confirmed(portal, Level.L2)
    (portal.settings.vault_dir / "people-v1.csv").unlink()  # the raw file cannot be read
    with portal.sessions.begin() as session:
        held = session.get(DatasetVersion, version.id)
        assert held is not None
        held.assessment = {}
    assessment.start_assessment(portal, version_id=version.id)
    drained(portal)
    with portal.sessions() as session:
        dataset = session.get(Dataset, "people")
        assert dataset is not None and dataset.latest is not None
        view = assessment.report_view(dataset, dataset.latest)
    assert not view["ready"] and view["failed"]
    assert assessment.resume_assessments(portal) == 1
