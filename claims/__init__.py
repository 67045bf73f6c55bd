"""The library of verified fact-checks: model, verdict vocabulary, storage, formats, CLI.

``claims`` knows nothing of search or of the tipline; both read the library through the
names below.
"""

from claims.db import Base, get_engine, get_session, init_app, session_scope
from claims.formats import export_file, import_file
from claims.models import Claim, ClaimHistory, LibraryState
from claims.errors import ClaimNotFound, ClaimsRejected, ImportProblem, InvalidClaim
from claims.store import (
    ImportReport, changes_since, claim_history, count_claims, get_claim, library_revision,
    list_claims, load_published, published_claims, save_claim, set_status, upsert_claims,
)
from claims.verdicts import Verdict, normalize_verdict, verdict_emoji, verdict_label

__all__ = [
    "Base", "Claim", "ClaimHistory", "ClaimNotFound", "ClaimsRejected", "ImportProblem",
    "ImportReport", "InvalidClaim", "LibraryState", "Verdict", "changes_since", "claim_history",
    "count_claims", "export_file", "get_claim", "get_engine", "get_session", "import_file",
    "init_app", "library_revision", "list_claims", "load_published", "normalize_verdict", "published_claims",
    "save_claim", "session_scope", "set_status", "upsert_claims", "verdict_emoji",
    "verdict_label",
]
