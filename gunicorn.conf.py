"""gunicorn settings for the tipline; gunicorn reads this file from the working directory.

Command-line options (scripts/run.sh passes --workers and --bind) override anything here.
"""


def post_worker_init(worker):
    """Get each worker ready before it accepts its first message (app.prepare_worker)."""
    from app import prepare_worker

    if hasattr(worker.wsgi, "extensions"):  # the tipline's app, not some other WSGI callable
        prepare_worker(worker.wsgi, [getattr(listener, "sock", listener) for listener in worker.sockets])
