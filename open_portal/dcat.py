"""DCAT-AP (JSON-LD) and CKAN package views of a dataset."""

from __future__ import annotations

from typing import Any

from open_portal.models import Dataset, Release

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "adms": "http://www.w3.org/ns/adms#",
}
ACCESS_RIGHTS = "http://publications.europa.eu/resource/authority/access-right/"


def dataset_jsonld(dataset: Dataset, release: Release | None, *, base: str) -> dict[str, Any]:
    """The dataset as a DCAT-AP ``dcat:Dataset`` in JSON-LD."""
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@id": f"{base}/datasets/{dataset.id}",
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.id,
        "dct:title": [
            {"@value": dataset.title_zh, "@language": "zh"},
            {"@value": dataset.title_en, "@language": "en"},
        ],
        "dct:description": [
            {"@value": dataset.description_zh, "@language": "zh"},
            {"@value": dataset.description_en, "@language": "en"},
        ],
        "dct:publisher": {
            "@type": "foaf:Agent",
            "foaf:name": dataset.publisher_name_zh or dataset.publisher,
            "dct:identifier": dataset.publisher,
        },
        "dcat:keyword": list(dataset.keywords),
        "dcat:theme": dataset.theme,
        "dct:temporal": dataset.temporal_coverage,
        "dct:spatial": dataset.spatial_coverage,
        "dct:accrualPeriodicity": dataset.update_frequency,
        "dct:issued": dataset.issued.isoformat(),
        "dct:modified": dataset.modified.isoformat(),
        "adms:version": str(dataset.latest.number if dataset.latest else 0),
        "dct:license": dataset.licence,
        "dcat:contactPoint": {"@type": "vcard:Kind", "vcard:hasEmail": dataset.contact},
        "dct:accessRights": {"@id": ACCESS_RIGHTS + dataset.open_class.access_right},
        "pds:level": dataset.level.value,
        "dcat:distribution": [],
    }
    if release is not None:
        doc["dcat:distribution"].append(
            {
                "@type": "dcat:Distribution",
                "dcat:downloadURL": f"{base}/datasets/{dataset.id}/download",
                "dct:format": "Parquet",
                "spdx:checksum": {"spdx:algorithm": "sha256", "spdx:checksumValue": release.sha256},
            }
        )
    return doc


def ckan_package(dataset: Dataset, release: Release | None, *, base: str) -> dict[str, Any]:
    """The dataset as a CKAN package dict."""
    resources = []
    if release is not None:
        resources.append(
            {
                "id": f"{dataset.id}-release-{release.id}",
                "package_id": dataset.id,
                "name": f"{dataset.id}.parquet",
                "format": "Parquet",
                "url": f"{base}/datasets/{dataset.id}/download",
                "hash": f"sha256:{release.sha256}",
                "created": release.created_at.isoformat(),
            }
        )
    return {
        "id": dataset.id,
        "name": dataset.id,
        "title": dataset.title_zh,
        "title_en": dataset.title_en,
        "notes": dataset.description_zh,
        "notes_en": dataset.description_en,
        "organization": {
            "name": dataset.publisher,
            "title": dataset.publisher_name_zh or dataset.publisher,
            "title_en": dataset.publisher_name_en or dataset.publisher,
        },
        "owner_org": dataset.publisher,
        "tags": [{"name": k} for k in dataset.keywords],
        "groups": [{"name": dataset.theme}] if dataset.theme else [],
        "license_id": dataset.licence,
        "version": str(dataset.latest.number if dataset.latest else 0),
        "metadata_created": dataset.issued.isoformat(),
        "metadata_modified": dataset.modified.isoformat(),
        "level": dataset.level.value,
        "open_class": dataset.open_class.value,
        "access_rights": dataset.open_class.access_right,
        "temporal_coverage": dataset.temporal_coverage,
        "spatial_coverage": dataset.spatial_coverage,
        "update_frequency": dataset.update_frequency,
        "contact": dataset.contact,
        "columns": list(dataset.columns),
        "num_resources": len(resources),
        "resources": resources,
        "state": "active",
        "type": "dataset",
        "private": dataset.open_class.access_right != "PUBLIC",
    }
