"""Readable names, in English (the catalogs give the Chinese), of what the code names by ids:
enum values, audit event types, automatic export checks.

Pages show ``t(label(...))``; a value without a label is shown as it is (and the page crawl
test fails on it).
"""

from __future__ import annotations

import enum

from markupsafe import Markup

from open_portal import vocabularies
from open_portal.i18n import N_

ENUMS: dict[str, str] = {
    # applications
    "ApplicationStatus.draft": N_("Draft"),
    "ApplicationStatus.submitted": N_("Submitted"),
    "ApplicationStatus.returned": N_("Returned for changes"),
    "ApplicationStatus.approved": N_("Approved"),
    "ApplicationStatus.rejected": N_("Rejected"),
    "ApplicationStatus.withdrawn": N_("Withdrawn"),
    "ApplicantKind.person": N_("Person"),
    "ApplicantKind.organisation": N_("Organisation"),
    "Decision.approve": N_("Approve"),
    "Decision.reject": N_("Reject"),
    "Decision.return": N_("Return for changes"),
    "ReviewerRole.owner": N_("Data owner"),
    "ReviewerRole.officer": N_("Security officer"),
    # grants
    "GrantStatus.active": N_("Active"),
    "GrantStatus.suspended": N_("Suspended"),
    "GrantStatus.revoked": N_("Revoked"),
    "GrantStatus.expired": N_("Expired"),
    "GrantStatus.ended": N_("Ended"),
    "GrantStatus.destroyed": N_("Destroyed"),
    "InvitationStatus.invited": N_("Invited"),
    "InvitationStatus.accepted": N_("Accepted"),
    "InvitationStatus.declined": N_("Declined"),
    # exports and destruction
    "ExportStatus.pending": N_("Not yet submitted"),
    "ExportStatus.submitted": N_("Submitted"),
    "ExportStatus.partially_reviewed": N_("Partially reviewed"),
    "ExportStatus.reviewed": N_("Reviewed"),
    "ExportStatus.approved": N_("Approved"),
    "ExportStatus.rejected": N_("Rejected"),
    "ExportStatus.returned": N_("Returned for changes"),
    "ExportStatus.released": N_("Released"),
    "ExportStatus.withdrawn": N_("Withdrawn"),
    "Vote.approve": N_("Approve"),
    "Vote.changes": N_("Changes requested"),
    "Visibility.private": N_("Officers only"),
    "Visibility.public": N_("Visible to the requester"),
    "DestructionStatus.requested": N_("Waiting for confirmation"),
    "DestructionStatus.started": N_("In progress"),
    "DestructionStatus.done": N_("Done"),
    # differential privacy queries
    "QueryKind.count": N_("Count"),
    "QueryKind.sum": N_("Sum"),
    "QueryKind.mean": N_("Mean"),
    "QueryKind.variance": N_("Variance"),
    "QueryKind.quantile": N_("Quantile"),
    "QueryKind.histogram": N_("Histogram"),
    "QueryKind.group_count": N_("Count per group"),
    "QueryKind.group_sum": N_("Sum per group"),
    # catalog
    "OpenClass.unconditional": N_("Unconditional"),
    "OpenClass.restricted": N_("Restricted"),
    "OpenClass.prohibited": N_("Prohibited"),
    "DetectionStatus.pending": N_("Detection pending"),
    "DetectionStatus.running": N_("Detection running"),
    "DetectionStatus.done": N_("Detection done"),
    "DetectionStatus.failed": N_("Detection failed"),
    "HarvestStatus.new": N_("Not harvested yet"),
    "HarvestStatus.ok": N_("Harvested"),
    "HarvestStatus.failed": N_("Harvest failed"),
    "SourceKind.dcat": N_("DCAT-AP catalog"),
    "SourceKind.ckan": N_("CKAN action API"),
}

ROLES: dict[str, str] = {
    "researcher": N_("Researcher"),
    "operator": N_("Authorized operator"),
    "owner": N_("Data owner"),
    "officer": N_("Security officer"),
    "admin": N_("Platform administrator"),
}

COLUMN_TYPES: dict[str, str] = {
    "string": N_("text"),
    "integer": N_("integer"),
    "float": N_("decimal"),
    "date": N_("date"),
    "datetime": N_("date and time"),
}

DESTRUCTION_STEPS: dict[str, str] = {
    "exports": N_("Export requests closed"),
    "workspace": N_("Workspace removed"),
    "release": N_("Release removed"),
    "holding_area": N_("Export holding area removed"),
    "keys": N_("Keys erased"),
    "ledger": N_("Privacy ledger closed"),
}

# The methods a destruction certificate names (signed as written, in English; shown translated)
DESTRUCTION_METHODS = (
    N_(
        "NIST SP 800-88 Rev. 1: cryptographic erase of the grant's keys (purge of every copy "
        "sealed under them) and removal of the workspace, release and holding-area files (clear)"
    ),
    N_("sealed with AES-256-GCM under the grant's key; files removed; key erased"),
    N_(
        "cryptographic erase (NIST SP 800-88 purge): the only copy of the wrapped key deleted "
        "from the portal database; the export holding area was sealed under it"
    ),
)

EVENTS: dict[str, str] = {
    "application.created": N_("Application created"),
    "application.edited": N_("Application edited"),
    "application.submitted": N_("Application submitted"),
    "application.withdrawn": N_("Application withdrawn"),
    "application.approved": N_("Application approved"),
    "application.rejected": N_("Application rejected"),
    "application.returned": N_("Application returned for changes"),
    "application.review.approve": N_("Reviewer approved an application"),
    "application.review.reject": N_("Reviewer rejected an application"),
    "application.review.return": N_("Reviewer returned an application"),
    "dataset.published": N_("Dataset published"),
    "dataset.version_uploaded": N_("Dataset version uploaded"),
    "dataset.policy_confirmed": N_("Desensitization policy confirmed"),
    "dataset.budget_set": N_("Dataset privacy budget set"),
    "dataset.text_scanned": N_("Free text scanned for personal data"),
    "release.prepared": N_("Release prepared"),
    "release.published": N_("Release published"),
    "release.downloaded": N_("Release downloaded"),
    "grant.created": N_("Grant created"),
    "grant.member_joined": N_("Member joined a grant"),
    "grant.invitation_declined": N_("Invitation declined"),
    "grant.suspend": N_("Grant suspended"),
    "grant.reinstate": N_("Grant reinstated"),
    "grant.revoke": N_("Grant revoked"),
    "grant.end": N_("Grant ended by its holder"),
    "grant.expired": N_("Grant expired"),
    "grant.destruction_requested": N_("Destruction requested"),
    "grant.destruction_started": N_("Destruction started"),
    "grant.destroyed": N_("Grant destroyed (certificate)"),
    "workspace.started": N_("Workspace started"),
    "workspace.stopped": N_("Workspace stopped"),
    "workspace.data_mounted": N_("Data mounted in a workspace"),
    "workspace.destroyed": N_("Workspace destroyed"),
    "workspace.credential_issued": N_("Workspace credential issued"),
    "workspace.credential_revoked": N_("Workspace credential revoked"),
    "dp.query": N_("DP query answered"),
    "dp.query.refused": N_("DP query refused"),
    "dp.query.failed": N_("DP query failed"),
    "export.requested": N_("Export requested"),
    "export.justified": N_("Export context and controls written"),
    "export.file_added": N_("File added to an export"),
    "export.file_updated": N_("Export file updated"),
    "export.file_withdrawn": N_("Export file withdrawn"),
    "export.file_viewed": N_("Held file viewed"),
    "export.checks_answered": N_("Failing checks answered"),
    "export.submitted": N_("Export submitted"),
    "export.withdrawn": N_("Export withdrawn"),
    "export.vote.approve": N_("Officer approved a file"),
    "export.vote.changes": N_("Officer asked for changes to a file"),
    "export.review_completed": N_("Export review completed"),
    "export.approved": N_("Export approved"),
    "export.rejected": N_("Export rejected"),
    "export.returned": N_("Export returned for changes"),
    "export.released": N_("Export released"),
    "export.downloaded": N_("Released file downloaded"),
    "export.commented": N_("Export comment"),
    "export.closed": N_("Export closed for destruction"),
    "audit.key_rotated": N_("Signing key rotated"),
    "audit.tail_recovered": N_("Log tail recovered"),
    "role.granted": N_("Role granted"),
    "role.removed": N_("Role removed"),
    "harvest.source_registered": N_("Harvest source registered"),
    "harvest.completed": N_("Harvest completed"),
    "harvest.failed": N_("Harvest failed"),
}

CHECKS: dict[str, str] = {
    "intake": N_("Intake (what is held)"),
    "file_type": N_("File type"),
    "size": N_("File size"),
    "personal_data": N_("Personal data"),
    "pseudonyms": N_("Pseudonyms of the release"),
    "disclosure.min_cell_count": N_("Minimum cell count"),
    "disclosure.p_percent": N_("p% dominance rule"),
    "disclosure.nk_dominance": N_("(n, k) dominance rule"),
    "disclosure.totals": N_("Totals (differencing)"),
    "disclosure.dominance": N_("Dominance rules"),
    "text": N_("Text extraction"),
}


def label(value: enum.Enum | str, kind: str = "") -> str:
    """The English label of an enum member (or of ``value`` of the enum named ``kind``)."""
    if isinstance(value, enum.Enum):
        kind, value = type(value).__name__, str(value.value)
    return ENUMS.get(f"{kind}.{value}", str(value))


def step(name: str) -> str:
    return DESTRUCTION_STEPS.get(name, name)


def role(name: str) -> str:
    return ROLES.get(name, name)


def term(table: str, value: str, lang: str) -> str | Markup:
    """A catalog theme, update frequency or licence as the controlled vocabulary names it in
    ``lang`` (the value as written when it is not in the vocabulary)."""
    found = {
        "theme": vocabularies.theme,
        "frequency": vocabularies.frequency,
        "licence": vocabularies.licence,
    }[table](value)
    if found and value:
        return found.label(lang)
    return Markup('<span translate="no">{}</span>').format(value)  # the owner's own words


def event(type: str) -> str:
    return EVENTS.get(type, type)


def check(name: str) -> str:
    return CHECKS.get(name, name)
