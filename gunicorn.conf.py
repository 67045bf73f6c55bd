"""gunicorn settings for the tipline; gunicorn reads this file from the working directory.

Command-line options (scripts/run.sh passes --workers and --bind) override anything here.

The app, its index, encoder and recent query vectors are loaded once, in the master, once it
listens and before it forks the workers (app.preload): the workers share those pages
(copy-on-write) instead of each holding its own copy (memory per worker: BENCHMARKS.md). Not
gunicorn's `preload_app`, which loads the app before binding the port: during a restart,
messages would be refused for the whole load instead of waiting in the listen queue.
"""


def when_ready(server):
    """In the master, listening, before the first worker is forked: load the app and its index.

    Workers forked from here on find the app loaded (gunicorn keeps it on server.app)."""
    from app import preload

    app = server.app.wsgi()
    if hasattr(app, "extensions"):  # the tipline's app, not some other WSGI callable
        preload(app)


def on_reload(server):
    """On SIGHUP new workers load the code anew (each its own copy, until the next restart)."""
    server.app.callable = None


def post_worker_init(worker):
    """Get each worker ready before it accepts its first message (app.prepare_worker)."""
    from app import prepare_worker

    if hasattr(worker.wsgi, "extensions"):  # the tipline's app, not some other WSGI callable
        prepare_worker(worker.wsgi, [getattr(listener, "sock", listener) for listener in worker.sockets])
