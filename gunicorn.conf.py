"""gunicorn settings for the tipline; gunicorn reads this file from the working directory.

Command-line options (scripts/run.sh passes --workers and --bind) override anything here.
"""


def post_worker_init(worker):
    """Load the search index before this worker accepts its first message, and let the tipline
    see how many messages wait for a worker.

    Otherwise the first message each worker gets waits for the index to load (about 2 s at
    100,000 fact-checks), and so does everyone queued behind it.
    """
    extensions = getattr(worker.wsgi, "extensions", {})
    backlog = extensions.get("factcheck.backlog")
    if backlog is not None:  # how many messages wait: tipline/backlog.py, QUICK_WHEN_WAITING
        backlog.watch([getattr(listener, "sock", listener) for listener in worker.sockets])
    searcher = extensions.get("factcheck.searcher")
    if searcher is not None:
        searcher.warm()
