"""Threads of a worker process for the work its webhook hands off (pictures read, late answers)."""
import threading
from concurrent.futures import Future, ThreadPoolExecutor


class Threads:
    """A few threads of this process for work the webhook hands off, made on first use (after
    any fork, so no thread crosses one). `stop` finishes what is queued."""

    def __init__(self, threads: int, name: str):
        self.threads, self.name = threads, name
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, function, *args) -> Future:
        """Run a function on one of the threads."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix=self.name)
            return self._pool.submit(function, *args)

    def stop(self) -> None:
        """Finish what is queued and stop the threads."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
