"""The audit log: an append-only RFC 9162 Merkle log with signed C2SP checkpoints.

``AuditLog`` records ``AuditEvent``s durably and hands out evidence bundles; ``verify_evidence``
checks a bundle offline with nothing but the verifier key.
"""

from audit.events import AuditEvent
from audit.log import AuditLog, SignedCheckpoint
from audit.logcheck import LogReport, verify_directory
from audit.verify import verify_evidence

__all__ = [
    "AuditEvent",
    "AuditLog",
    "LogReport",
    "SignedCheckpoint",
    "verify_directory",
    "verify_evidence",
]
