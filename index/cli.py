"""`flask index …`: rebuild, inspect and query the search index.

A thin adapter: the app hands `init_app` the Searcher it built; nothing here reads the app.
"""
import os

import click
from flask.cli import AppGroup

from .encoders import UnknownEncoder, configure_threads, load_encoder
from .searcher import Searcher
from .store import FORMAT, SnapshotMissing


def make_cli(searcher: Searcher) -> AppGroup:
    """Give the `flask index` commands, working on this searcher's index and library."""
    store, library = searcher.service.store, searcher.library
    index_cli = AppGroup("index", help="Build, inspect and query the search index.")

    @index_cli.command("rebuild")
    @click.option("--encoder", "encoder_spec", default=None,
                  help="Encoder to build with (default: the ENCODER setting).")
    @click.option("--full", is_flag=True, help="Embed every document again, reusing nothing.")
    @click.option("--if-needed", is_flag=True,
                  help="Do nothing when the index is built with this encoder and follows the library.")
    def rebuild_command(encoder_spec, full, if_needed):
        """Re-embed the whole library into a new index and swap it in atomically.

        The tipline keeps answering from the old index while this runs, and if it is stopped half
        way. Running workers pick the new index up within seconds; other nodes on the same
        database rebuild their own index the same way (their workers follow by themselves).

        Example: flask index rebuild --encoder sentence-transformers:intfloat/multilingual-e5-small
        """
        configure_threads(os.cpu_count() or 1)  # a batch job: use every core
        spec = encoder_spec or searcher.service.encoder_spec
        if if_needed and not full and _up_to_date(spec):
            click.echo(f"The index is up to date (snapshot {store.current_name()}).")
            return
        revision, documents = library.documents()
        try:
            load_encoder(spec)
        except (UnknownEncoder, OSError, ValueError) as exc:
            raise click.ClickException(f"Cannot load encoder {spec!r}: {exc}") from exc
        with click.progressbar(length=len(documents), label=f"Indexing with {spec}") as bar:
            # --if-needed is what a node runs as it starts: it catches up with the other nodes'
            # build rather than make them all rebuild.
            report = searcher.rebuild(spec, reuse=not full, progress=bar.update,
                                      library=(revision, documents), everywhere=not if_needed)
        click.echo(f"Snapshot {report.snapshot}: {report.documents} documents at library revision "
                   f"{report.revision} ({report.embedded} embedded, {report.reused} reused), "
                   f"encoder {report.encoder_id}.")

    def _up_to_date(spec: str) -> bool:
        """Say whether the live snapshot is of this format and encoder, with nothing changed since."""
        try:
            meta = store.meta()
        except SnapshotMissing:
            return False
        if meta.get("format") != FORMAT or meta["encoder_spec"] != spec:
            return False
        wanted = searcher.wanted_build()
        if wanted is not None and wanted.encoder_spec == spec and meta.get("build") != wanted.id:
            return False  # another node rebuilt: this one follows
        changes = library.changes(meta["revision"])
        return not (changes.upserts or changes.removals)

    @index_cli.command("status")
    def status_command():
        """Say what is indexed, with which encoder, and whether it is behind the library.

        Example: flask index status
        """
        try:
            meta = store.meta()
        except SnapshotMissing as exc:
            raise click.ClickException(str(exc)) from exc
        behind = library.changes(meta["revision"])
        click.echo(f"Snapshot:   {store.current_name()} (created {meta['created']})")
        click.echo(f"Encoder:    {meta['encoder_id']} ({meta['dim']} dims; spec {meta['encoder_spec']})")
        click.echo(f"Documents:  {meta['documents']} at library revision {meta['revision']}")
        wanted = searcher.wanted_build()
        if wanted is not None and meta.get("build") != wanted.id:
            click.echo(f"Build:      {meta.get('build') or '-'}, not the last rebuild recorded by the nodes "
                       f"({wanted.id}, {wanted.encoder_spec}): running workers rebuild to it")
        elif wanted is not None:
            click.echo(f"Build:      {wanted.id}, the last rebuild recorded by the nodes")
        click.echo(f"Library:    revision {library.revision()}; {len(behind.upserts)} to add or update, "
                   f"{len(behind.removals)} to remove since the snapshot")
        if searcher.service.encoder_spec != meta["encoder_spec"]:
            click.echo(f"Note: the ENCODER setting is {searcher.service.encoder_spec!r}; run "
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
        result = searcher.search(text, k=k)
        titles = library.titles([m.id for m in result.matches])
        click.echo(f"Decision: {result.decision}")
        if result.evidence:
            ev = result.evidence
            click.echo(f"Evidence: terms={ev.query_terms} semantic={ev.top_semantic:.3f} "
                       f"coverage={ev.coverage:.2f} gap={ev.fused_gap:.3f}")
        for rank, match in enumerate(result.matches, 1):
            click.echo(f"{rank}. {match.score:.3f} (bm25 {match.lexical:.2f}, cos {match.semantic:.3f}) "
                       f"{match.id}  {titles.get(match.id, '')}")

    return index_cli


def init_app(app, searcher: Searcher) -> None:
    """Register `flask index` for this app's searcher."""
    app.cli.add_command(make_cli(searcher))
