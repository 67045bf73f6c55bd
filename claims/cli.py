"""``flask claims …``: add, import, export and list fact-checks; back up and restore the database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from claims.db import BackupUnsupported, backup_database, get_engine, restore_database, session_scope
from claims.errors import ClaimNotFound, ClaimsRejected, IncompleteClaim, InvalidClaim
from claims.formats import FORMATS, UnknownFormat, export_file, import_file
from claims.groups import GroupNew, ungrouped_published
from claims.models import STATUSES, Claim
from claims.store import count_claims, library_revision, list_claims, set_status, upsert_claims
from claims.verdicts import current_vocabulary

claims_cli = AppGroup("claims", help="Manage the library of fact-checks.")

# Where claims.init_app keeps the hook the app wants run after `flask claims restore`.
ON_RESTORE_KEY = "factcheck.claims.on_restore"
OnRestore = Callable[[], str | None]
# Where claims.init_app keeps the app's grouping of new fact-checks (claims/groups.py).
ON_GROUP_KEY = "factcheck.claims.group_new"

log = logging.getLogger(__name__)

_SHOWN_PROBLEMS = 20


@claims_cli.command("add")
@click.option("--id", "claim_id", help="Keep this id (default: a slug of the title).")
@click.option("--title", help="Headline of the fact-check.")
@click.option("--claim", "claim_text", help="The claim as it circulated.")
@click.option("--verdict", help="Label as published (SALAH, HOAKS, False, …) or a code.")
@click.option("--summary", help="Why the verdict: the short explanation.")
@click.option("--url", help="Link to the published fact-check (http/https).")
@click.option("--date", help="Publication date, YYYY-MM-DD.")
@click.option("--lang", help="Language code, e.g. id or en (default for new claims: id).")
@click.option("--tags", help='Tags separated by "," or "|".')
@click.option("--publisher", help="Newsroom or fact-checker that published it.")
@click.option("--status", type=click.Choice(STATUSES),
              help="draft, published or retired (default for new claims: published; a published "
                   "fact-check needs --verdict, --summary and --url).")
def add_command(claim_id, title, claim_text, verdict, summary, url, date, lang, tags, publisher,
                status):
    """Add a fact-check, or update one found by --id (else by --url).

    On an existing claim only the options given change. A published fact-check needs a
    verdict, a summary and a link; save an incomplete one with --status draft.

    \b
    Example:
      flask claims add --title "Foto banjir lama disebut banjir hari ini" \\
        --claim "Banjir besar melanda kota pagi ini" --verdict SALAH \\
        --url https://cekfakta.example.org/2025/01/foto-banjir --date 2025-01-31 \\
        --tags banjir,foto
    """
    options = {"id": claim_id, "title": title, "claim": claim_text, "verdict": verdict,
               "summary": summary, "url": url, "date": date, "lang": lang, "tags": tags,
               "publisher": publisher, "status": status}
    data = {name: value for name, value in options.items() if value is not None}
    if not data:
        raise click.UsageError("give at least --title or --claim (see --help)")
    try:
        with session_scope() as session:
            report = upsert_claims(session, [(1, data)], actor="cli", require_complete=True)
    except ClaimsRejected as exc:
        if exc.problem.missing:
            options = ", ".join(f"--{name}" for name in exc.problem.missing)
            raise click.ClickException(
                f"a published fact-check needs --verdict, --summary and --url; missing: "
                f"{options}. Give them, or save a draft with --status draft.") from None
        field = f"--{exc.field.replace('_', '-')}" if exc.field else "claim"
        raise click.ClickException(f"{field}: {exc.message}") from None
    action = "created" if report.created else "updated" if report.updated else "unchanged"
    click.echo(f"{action} {report.claim_ids[0]} (library revision {report.revision})")
    _group(report.claim_ids)


def _group(claim_ids: Sequence[str], strict: bool = False) -> None:
    """Group the newly published among these claims with the same hoax's fact-checks, if the
    app groups. A failure is reported and never undoes what was saved (`flask claims group`
    tries again); strict: it is the command's error."""
    group_new: GroupNew | None = current_app.extensions.get(ON_GROUP_KEY)
    if group_new is None or not claim_ids:
        return
    try:
        with session_scope() as session:
            report = group_new(session, list(claim_ids))
    except Exception as exc:
        if strict:
            raise click.ClickException(f"grouping failed: {type(exc).__name__}: {exc}") from None
        log.exception("grouping new fact-checks failed")
        click.echo(f"not grouped ({type(exc).__name__}: {exc}); `flask claims group` tries again",
                   err=True)
        return
    if report.grouped or strict:
        click.echo(f"grouped {report.grouped} with a fact-check of the same hoax"
                   + (f", {report.alone} alone" if strict else ""))
    if report.pairs:
        click.echo(f"{report.pairs} new pair{'s' if report.pairs != 1 else ''} for the desk to review "
                   "(/editors/pairs)")


@claims_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="File format (default: from the extension or the content).")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows and report the others (default: all or nothing).")
@click.option("--status", type=click.Choice(("draft", "published")), default="published",
              show_default=True, help="Status of new claims whose row names none.")
@click.option("--no-group", is_flag=True,
              help="Do not group the new fact-checks by hoax now (grouping first indexes them "
                   "in this process): for a first import of a large library, run `flask index "
                   "rebuild`, then `flask claims group`.")
@click.option("--allow-incomplete", is_flag=True,
              help="Publish rows without a verdict, a summary or a url (an archive loaded for "
                   "search tests; the tipline then answers with what there is).")
def import_command(path, fmt, skip_invalid, status, no_group, allow_incomplete):
    """Import fact-checks from JSONL, CSV or schema.org ClaimReview JSON-LD.

    Rows update the claim with the same id (else the same url) and add the rest, in one
    transaction: a bad row stops the import and nothing changes, unless --skip-invalid.
    A row left published needs a verdict, a summary and a url (else it is a bad row; import
    such rows with --status draft and complete them, or pass --allow-incomplete).
    Columns/keys: id, title, claim, verdict, summary, url, date, lang, tags, publisher,
    status. PATH "-" reads standard input (then --format is needed).

    \b
    Example:
      flask claims import cekfakta-2025.jsonl
      flask claims import sheet.csv --status draft --skip-invalid
      flask claims import artikel.html --format claimreview
      flask claims import library.jsonl --no-group && flask index rebuild && flask claims group
    """
    if path == "-" and fmt is None:
        raise click.UsageError("reading from standard input needs --format")
    try:
        with session_scope() as session:
            if path == "-":
                with click.open_file("-", "rb") as stdin:
                    report = import_file(session, stdin, fmt=fmt, skip_invalid=skip_invalid,
                                         status=status, actor="cli",
                                         require_complete=not allow_incomplete)
            else:
                report = import_file(session, path, fmt=fmt, skip_invalid=skip_invalid,
                                     status=status, actor="cli",
                                     require_complete=not allow_incomplete)
    except ClaimsRejected as exc:
        more = len(exc.problems) - 1
        hint = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
        raise click.ClickException(
            f"{exc}{hint}. Nothing was imported; --skip-invalid imports the valid rows."
        ) from None
    except (UnknownFormat, InvalidClaim) as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:  # the disk is full, the database locked for too long …
        raise click.ClickException(
            f"the database refused the import ({exc.orig}). Nothing was imported.") from None
    for problem in report.skipped[:_SHOWN_PROBLEMS]:
        click.echo(f"skipped {problem}")
    if len(report.skipped) > _SHOWN_PROBLEMS:
        click.echo(f"… and {len(report.skipped) - _SHOWN_PROBLEMS} more skipped")
    click.echo(f"created {report.created}, updated {report.updated}, unchanged "
               f"{report.unchanged}, skipped {len(report.skipped)} "
               f"(library revision {report.revision})")
    if not no_group:
        _group(report.claim_ids)


@claims_cli.command("group")
def group_command():
    """Group every published fact-check not grouped yet with those that debunk the same hoax.

    New fact-checks are grouped when they are added, imported or published; this catches up
    on the rest: a library from before groups existed, or a grouping that failed. Groups an
    editor confirmed or split are left as they are.

    \b
    Example:
      flask claims group
    """
    if current_app.extensions.get(ON_GROUP_KEY) is None:
        raise click.ClickException("this app does not group fact-checks")
    with session_scope() as session:
        todo = ungrouped_published(session)
    click.echo(f"{len(todo)} published fact-check{'s' if len(todo) != 1 else ''} to group")
    _group(todo, strict=True)


@claims_cli.command("pairs")
@click.option("--batch", default=500, show_default=True, help="Fact-checks looked at per transaction.")
def pairs_command(batch):
    """List for the desk's review the pairs of published fact-checks that may debunk one hoax.

    Pairs are recorded as fact-checks are grouped (from PAIR_REVIEW_FROM, in another group);
    this looks at every published fact-check once more, for a library grouped before pairs
    existed. No embedding: the index's own vectors. Pairs already listed or decided stay as
    they are, so it is safe to run again.

    \b
    Example:
      flask claims group && flask claims pairs
    """
    group_new: GroupNew | None = current_app.extensions.get(ON_GROUP_KEY)
    if group_new is None:
        raise click.ClickException("this app does not group fact-checks")
    with session_scope() as session:
        todo = list(session.scalars(select(Claim.id).where(Claim.status == "published").order_by(Claim.id)))
    found = 0
    for start in range(0, len(todo), max(1, batch)):
        with session_scope() as session:
            found += group_new.pairs(session, todo[start:start + batch], fresh=start == 0)
    click.echo(f"{len(todo)} published fact-check{'s' if len(todo) != 1 else ''} looked at, "
               f"{found} new pair{'s' if found != 1 else ''} for the desk to review (/editors/pairs)")


@claims_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="File format (default: from the extension; jsonl for -).")
@click.option("--status", type=click.Choice(STATUSES), help="Only claims with this status.")
def export_command(path, fmt, status):
    """Export the library to JSONL, CSV or ClaimReview JSON-LD (PATH "-" is standard output).

    The files import back unchanged with ``flask claims import``.

    \b
    Example:
      flask claims export backup.jsonl
      flask claims export - --format claimreview --status published > claimreview.json
    """
    try:
        with session_scope() as session:
            if path == "-":
                with click.open_file("-", "w", encoding="utf-8") as stdout:
                    count = export_file(session, stdout, fmt=fmt or "jsonl", status=status)
            else:
                count = export_file(session, path, fmt=fmt, status=status)
    except UnknownFormat as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"exported {count} claim{'s' if count != 1 else ''} to "
               f"{'standard output' if path == '-' else path}", err=True)


@claims_cli.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only this status.")
@click.option("--verdict", help="Only this verdict (a code or a published label).")
@click.option("--lang", help="Only this language code.")
@click.option("--q", "query", help="Text to look for in id, title, claim, summary, url.")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
def list_command(status, verdict, lang, query, limit):
    """List claims, most recently changed first: id, status, verdict, date, title.

    \b
    Example:
      flask claims list --verdict HOAKS --q vaksin --limit 5
    """
    code = None
    if verdict:
        vocabulary = current_vocabulary()
        code = vocabulary.lookup(verdict)
        if code is None:
            raise click.ClickException(
                f"unknown verdict {verdict!r}; codes: {', '.join(vocabulary.codes)}")
    with session_scope() as session:
        claims = list_claims(session, q=query, status=status, verdict=code, lang=lang,
                             limit=limit)
        total = count_claims(session, q=query, status=status, verdict=code, lang=lang)
        for claim in claims:
            date = claim.published.isoformat() if claim.published else "-"
            title = " ".join(claim.title.split())
            title = title if len(title) <= 80 else title[:79] + "…"
            click.echo(f"{claim.id}\t{claim.status}\t{claim.verdict}\t{date}\t{title}")
    click.echo(f"{len(claims)} of {total} claim{'s' if total != 1 else ''}", err=True)


@claims_cli.command("status")
@click.argument("claim_id")
@click.argument("status", type=click.Choice(STATUSES))
def status_command(claim_id, status):
    """Publish, unpublish (draft) or retire a claim (publishing needs a verdict, summary and url).

    \b
    Example:
      flask claims status foto-banjir-lama-3f2a1c retired
    """
    try:
        with session_scope() as session:
            claim = set_status(session, claim_id, status, actor="cli", require_complete=True)
            revision = claim.revision
    except ClaimNotFound as exc:
        raise click.ClickException(str(exc)) from None
    except IncompleteClaim as exc:
        options = ", ".join(f"--{name}" for name in exc.missing)
        raise click.ClickException(
            f"{claim_id} cannot be published: {exc.message}. Complete it first with "
            f"flask claims add --id {claim_id} {options} …") from None
    click.echo(f"{claim_id} is {status} (library revision {revision})")
    if status == "published":
        _group([claim_id])


@claims_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path):
    """Copy the whole database (library, request log, editors) to PATH while it is in use.

    SQLite only: a consistent copy as of one commit, made with SQLite's online backup API
    while the tipline goes on answering and writing. PostgreSQL: use pg_dump. Restore with
    `flask claims restore PATH`.

    \b
    Example:
      flask claims backup /var/backups/cekfakta-$(date +%F).db
    """
    try:
        backup_database(get_engine(), path)
    except BackupUnsupported as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None
    with Session(create_engine(f"sqlite:///{path}")) as copy:
        revision, total = library_revision(copy), count_claims(copy)
        copy.get_bind().dispose()
    click.echo(f"backed up {total} claims at library revision {revision} to {path}")


@claims_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path, yes):
    """Replace the whole database with a backup made by `flask claims backup`.

    Everything written since the backup (claims, requests, editors' work) is lost. The app
    then brings what it keeps beside the library up to date: the tipline rebuilds its search
    index from the restored library, and running workers follow within seconds.

    \b
    Example:
      flask claims restore /var/backups/cekfakta-2025-01-31.db
    """
    if not yes:
        click.confirm(f"Replace the whole database with {path}?", abort=True)
    try:
        restore_database(get_engine(), path)
    except (BackupUnsupported, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    with session_scope() as session:
        revision, published = library_revision(session), count_claims(session, status="published")
    # Said before the hook runs: if the hook fails, the restore has happened all the same.
    click.echo(f"restored {path}: {published} published claim{'s' if published != 1 else ''} at "
               f"library revision {revision}")
    on_restore: OnRestore | None = current_app.extensions.get(ON_RESTORE_KEY)
    if on_restore is not None:
        line = on_restore()
        if line:
            click.echo(line)


__all__ = ["ON_GROUP_KEY", "ON_RESTORE_KEY", "OnRestore", "claims_cli"]
