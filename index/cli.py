"""`flask index …`: rebuild, inspect and query the search index."""
import os

import click
from flask import current_app
from flask.cli import AppGroup

from .encoders import UnknownEncoder, configure_threads, load_encoder
from .service import rebuild
from .store import SnapshotMissing

index_cli = AppGroup("index", help="Build, inspect and query the search index.")


def _library():
    """Give the app's view of the library (documents and changes), wired by app.py."""
    return current_app.extensions["factcheck.library"]


@index_cli.command("rebuild")
@click.option("--encoder", "encoder_spec", default=None,
              help="Encoder to build with (default: the ENCODER setting).")
@click.option("--full", is_flag=True, help="Embed every document again, reusing nothing.")
@click.option("--if-needed", is_flag=True,
              help="Do nothing when the index is built with this encoder and follows the library.")
def rebuild_command(encoder_spec, full, if_needed):
    """Re-embed the whole library into a new index and swap it in atomically.

    The tipline keeps answering from the old index while this runs, and if it is stopped half
    way. Running workers pick the new index up within seconds.

    Example: flask index rebuild --encoder sentence-transformers:intfloat/multilingual-e5-small
    """
    configure_threads(os.cpu_count() or 1)  # a batch job: use every core
    service = current_app.extensions["factcheck.search"]
    spec = encoder_spec or current_app.config["ENCODER"]
    if if_needed and not full and _up_to_date(service.store, spec):
        click.echo(f"The index is up to date (snapshot {service.store.current_name()}).")
        return
    revision, documents = _library().documents()
    try:
        load_encoder(spec)
    except (UnknownEncoder, OSError, ValueError) as exc:
        raise click.ClickException(f"Cannot load encoder {spec!r}: {exc}") from exc
    with click.progressbar(length=len(documents), label=f"Indexing with {spec}") as bar:
        report = rebuild(service.store, revision, documents, spec, service.index_options,
                         reuse=not full, progress=bar.update)
    click.echo(f"Snapshot {report.snapshot}: {report.documents} documents at library revision "
               f"{report.revision} ({report.embedded} embedded, {report.reused} reused), "
               f"encoder {report.encoder_id}.")


def _up_to_date(store, spec: str) -> bool:
    """Say whether the live snapshot uses this encoder and nothing changed in the library since."""
    try:
        meta = store.meta()
    except SnapshotMissing:
        return False
    if not meta.get("reranker"):  # built before the re-ranker: rebuild (vectors are reused)
        return False
    changes = _library().changes(meta["revision"])
    return meta["encoder_spec"] == spec and not (changes.upserts or changes.removals)


@index_cli.command("status")
def status_command():
    """Say what is indexed, with which encoder, and whether it is behind the library.

    Example: flask index status
    """
    service = current_app.extensions["factcheck.search"]
    library = _library()
    try:
        meta = service.store.meta()
    except SnapshotMissing as exc:
        raise click.ClickException(str(exc)) from exc
    behind = library.changes(meta["revision"])
    click.echo(f"Snapshot:   {service.store.current_name()} (created {meta['created']})")
    click.echo(f"Encoder:    {meta['encoder_id']} ({meta['dim']} dims; spec {meta['encoder_spec']})")
    click.echo(f"Documents:  {meta['documents']} at library revision {meta['revision']}")
    click.echo(f"Library:    revision {library.revision()}; {len(behind.upserts)} to add or update, "
               f"{len(behind.removals)} to remove since the snapshot")
    if current_app.config["ENCODER"] != meta["encoder_spec"]:
        click.echo(f"Note: the ENCODER setting is {current_app.config['ENCODER']!r}; run "
                   "`flask index rebuild` to switch the index to it.")
    state = "up to date" if not (behind.upserts or behind.removals) else \
        "behind (running workers catch up by themselves; a rebuild makes cold starts faster)"
    click.echo(f"State:      {state}")


@index_cli.command("query")
@click.argument("text")
@click.option("-k", default=5, show_default=True, help="How many candidates to show.")
def query_command(text, k):
    """Search the index as the tipline would and show the decision and the candidates.

    Example: flask index query "vaksin ada chip"
    """
    searcher = current_app.extensions["factcheck.searcher"]
    result = searcher.search(text, k=k)
    titles = _library().titles([m.id for m in result.matches])
    click.echo(f"Decision: {result.decision}")
    if result.evidence:
        ev = result.evidence
        click.echo(f"Evidence: terms={ev.query_terms} semantic={ev.top_semantic:.3f} "
                   f"coverage={ev.coverage:.2f} gap={ev.fused_gap:.3f}")
    for rank, match in enumerate(result.matches, 1):
        click.echo(f"{rank}. {match.score:.3f} (bm25 {match.lexical:.2f}, cos {match.semantic:.3f}) "
                   f"{match.id}  {titles.get(match.id, '')}")


def init_app(app):
    """Register `flask index`."""
    app.cli.add_command(index_cli)
