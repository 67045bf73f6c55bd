"""gunicorn settings for the tipline; gunicorn reads this file from the working directory.

Command-line options (scripts/run.sh passes --workers and --bind) override anything here.
"""

# The app, its index, encoder and recent query vectors are loaded once, in the master, before
# it forks the workers (app.preload): the workers share those pages (copy-on-write) instead of
# each holding its own copy. Memory per worker, with and without: BENCHMARKS.md.
preload_app = True


def when_ready(server):
    """In the master, the app loaded and before the first worker is forked: load the index."""
    from app import preload

    app = server.app.wsgi()
    if hasattr(app, "extensions"):  # the tipline's app, not some other WSGI callable
        preload(app)


def post_worker_init(worker):
    """Get each worker ready before it accepts its first message (app.prepare_worker)."""
    from app import prepare_worker

    if hasattr(worker.wsgi, "extensions"):  # the tipline's app, not some other WSGI callable
        prepare_worker(worker.wsgi, [getattr(listener, "sock", listener) for listener in worker.sockets])
