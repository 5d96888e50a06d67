"""Export requests: files out of a workspace only through automatic checks and officer review.

Where things are:

- ``states``: the request states (OpenSAFELY Airlock's names), grouped; the table of valid
  changes is ``service.transitions.EXPORT``;
- ``outbox``: reading a named file out of the workspace's outbox on the host, trusting nothing;
- ``intake``: taking a file into a request (read, check, seal);
- ``holding``: the held copies, sealed in the vault under the grant's key;
- ``lifecycle``: every change of a request (policy check and transition, in one call);
- ``reading``: held copies for reviewers (audited), released files for members, lists, queues.

The HTML previews of held files are drawn by ``open_portal.previews``.
"""

from open_portal.service.exports.holding import holding_dir
from open_portal.service.exports.lifecycle import (
    add_files,
    answer_checks,
    close_for_destruction,
    comment,
    complete_review,
    decide,
    release,
    request_export,
    set_group,
    submit,
    update_file,
    vote,
    withdraw,
    withdraw_file,
)
from open_portal.service.exports.outbox import clean_name, outbox_of, read_outbox_file
from open_portal.service.exports.reading import (
    RequestSummary,
    check_summary,
    download,
    file_content,
    get_request,
    list_requests,
    release_evidence,
    review_queue,
    summary,
    under_review,
    visible_comments,
)
from open_portal.service.exports.records import (
    active_files,
    approvals,
    current_vote,
    reviewers_of_round,
)
from open_portal.service.exports.states import (
    DECISIONS,
    EDITABLE,
    MAX_FILES,
    UNDER_REVIEW,
    VOTING,
)

__all__ = [
    "DECISIONS",
    "EDITABLE",
    "MAX_FILES",
    "UNDER_REVIEW",
    "VOTING",
    "RequestSummary",
    "active_files",
    "add_files",
    "answer_checks",
    "approvals",
    "check_summary",
    "clean_name",
    "close_for_destruction",
    "comment",
    "complete_review",
    "current_vote",
    "decide",
    "download",
    "file_content",
    "get_request",
    "holding_dir",
    "list_requests",
    "outbox_of",
    "read_outbox_file",
    "release",
    "release_evidence",
    "request_export",
    "review_queue",
    "reviewers_of_round",
    "set_group",
    "submit",
    "summary",
    "under_review",
    "update_file",
    "visible_comments",
    "vote",
    "withdraw",
    "withdraw_file",
]
