"""SQLAlchemy models of the portal; every table is registered on ``Base.metadata``."""

from open_portal.models.applications import (
    ApplicantKind,
    Application,
    ApplicationDataset,
    ApplicationDecision,
    ApplicationStatus,
    Decision,
    ReviewerRole,
)
from open_portal.models.audit import AuditIndexEntry, AuditOutbox
from open_portal.models.base import Base, utcnow
from open_portal.models.catalog import (
    OPEN_CLASS_OF_LEVEL,
    Dataset,
    DatasetVersion,
    DetectionStatus,
    Level,
    OpenClass,
    Release,
    TextDetection,
)
from open_portal.models.exports import (
    DestructionStatus,
    ExportComment,
    ExportFile,
    ExportRequest,
    ExportReview,
    ExportStatus,
    ExportVote,
    GrantDestruction,
    Visibility,
    Vote,
)
from open_portal.models.grants import (
    Grant,
    GrantDataset,
    GrantInvitation,
    GrantMember,
    GrantStatus,
    InvitationStatus,
)
from open_portal.models.harvest import (
    HarvestedDataset,
    HarvestSource,
    HarvestStatus,
    SourceKind,
)
from open_portal.models.users import Notification, User

__all__ = [
    "OPEN_CLASS_OF_LEVEL",
    "ApplicantKind",
    "Application",
    "ApplicationDataset",
    "ApplicationDecision",
    "ApplicationStatus",
    "AuditIndexEntry",
    "AuditOutbox",
    "Base",
    "Dataset",
    "DatasetVersion",
    "Decision",
    "DestructionStatus",
    "DetectionStatus",
    "ExportComment",
    "ExportFile",
    "ExportRequest",
    "ExportReview",
    "ExportStatus",
    "ExportVote",
    "Grant",
    "GrantDataset",
    "GrantDestruction",
    "GrantInvitation",
    "GrantMember",
    "GrantStatus",
    "HarvestSource",
    "HarvestStatus",
    "HarvestedDataset",
    "InvitationStatus",
    "Level",
    "Notification",
    "OpenClass",
    "Release",
    "ReviewerRole",
    "SourceKind",
    "TextDetection",
    "User",
    "Visibility",
    "Vote",
    "utcnow",
]
