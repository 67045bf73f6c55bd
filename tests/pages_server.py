"""A web server on a loopback port for the tests of link reading: fixed pages, redirects, hits."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PagesServer:
    """Serves `routes` (path -> (status, headers, body)) and records every path asked for."""

    def __init__(self, routes=None, delay: float = 0.0):
        self.routes = dict(routes or {})
        self.hits: list[str] = []
        self.delay = delay
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                server.hits.append(self.path)
                if server.delay:
                    time.sleep(server.delay)
                status, headers, body = server.routes.get(self.path, (404, {}, b"not here"))
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up first (the timeout test)
                    pass

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def page(self, path, html, content_type="text/html; charset=utf-8"):
        """Serve an HTML page at path."""
        self.routes[path] = (200, {"Content-Type": content_type}, html.encode("utf-8"))

    def redirect(self, path, location, status=302):
        """Redirect path to location."""
        self.routes[path] = (status, {"Location": location}, b"")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
