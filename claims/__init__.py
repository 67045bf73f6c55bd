"""The library of verified fact-checks: model, verdict vocabulary, storage, formats, CLI.

``claims`` knows nothing of search or of the tipline; both read the library through the
names below.
"""

from flask import Flask

from claims import db
from claims.cli import ON_GROUP_KEY, ON_RESTORE_KEY, OnRestore, claims_cli
from claims.db import Base, Database, get_engine, get_session, session_scope
from claims.errors import ClaimNotFound, ClaimsRejected, ImportProblem, InvalidClaim
from claims.formats import export_file, import_file
from claims.groups import GroupNew, GroupReport, HoaxGroup, HoaxMember
from claims.migrate import db_cli
from claims.models import Claim, ClaimHistory, LibraryState
from claims.store import (
    ImportReport, changes_since, claim_history, count_claims, get_claim, library_revision,
    list_claims, load_published, published_claims, save_claim, set_status, upsert_claims,
)
from claims.verdicts import EXTENSION_KEY as VERDICTS_KEY
from claims.verdicts import Verdict, load_vocabulary, normalize_verdict, verdict_emoji, verdict_label


def init_app(app: Flask, on_restore: OnRestore | None = None,
             group_new: GroupNew | None = None) -> Database:
    """Connect the app to the library, load its verdicts file, register `flask claims` and `flask db`.

    ``on_restore`` is run, in the app context, after a successful `flask claims restore`: the
    app's chance to bring what it keeps beside the library up to date. It returns a line for
    the command to print, or None. ``group_new`` groups newly published fact-checks with the
    ones that debunk the same hoax (claims/groups.py) after `flask claims add`, `import` and
    `status … published`, and runs `flask claims group`; without it, nothing is grouped.
    """
    # A broken verdicts file stops start-up before anything touches the database.
    vocabulary = load_vocabulary(app.config.get("VERDICTS_FILE") or None)
    database = db.connect(app)
    app.extensions[VERDICTS_KEY] = vocabulary
    app.extensions[ON_RESTORE_KEY] = on_restore
    app.extensions[ON_GROUP_KEY] = group_new
    app.cli.add_command(claims_cli)
    app.cli.add_command(db_cli)
    return database


__all__ = [
    "Base", "Claim", "ClaimHistory", "ClaimNotFound", "ClaimsRejected", "GroupNew", "GroupReport",
    "HoaxGroup", "HoaxMember", "ImportProblem",
    "ImportReport", "InvalidClaim", "LibraryState", "Verdict", "changes_since", "claim_history",
    "count_claims", "export_file", "get_claim", "get_engine", "get_session", "import_file",
    "init_app", "library_revision", "list_claims", "load_published", "normalize_verdict",
    "published_claims", "save_claim", "session_scope", "set_status", "upsert_claims",
    "verdict_emoji", "verdict_label",
]
