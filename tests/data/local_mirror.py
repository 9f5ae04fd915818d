"""A real HTTP server on 127.0.0.1 for the download tests: files, and the ways servers fail.

``LocalMirror`` serves ``files`` (name -> bytes) at ``/<name>`` from a thread,
on a free port. ``modes[name]`` makes a file misbehave, one mode per request
(the last one repeats): ``ok``, ``corrupt`` (one byte changed), ``truncate``
(announces the whole length, sends half, closes the connection), ``stall``
(sends the headers and a few bytes, then nothing), ``404``, ``500``,
``redirect`` (302 to ``/moved/<name>``, which serves the file). ``hits``
counts the requests per name.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalMirror:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, list[str]] = {}
        self.hits: Counter[str] = Counter()
        self.release = threading.Event()  # ends every stall
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror._serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.release.set()
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.running = False

    def _mode(self, name: str) -> str:
        modes = self.modes.get(name) or ["ok"]
        return modes.pop(0) if len(modes) > 1 else modes[0]

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(req.path).path)
        moved = path.startswith("/moved/")
        name = path.removeprefix("/moved/" if moved else "/")
        self.hits[path] += 1
        if name not in self.files:
            req.send_error(404)
            return
        body = self.files[name]
        mode = "ok" if moved else self._mode(name)
        if mode in ("404", "500"):
            req.send_error(int(mode))
            return
        if mode == "redirect":
            req.send_response(302)
            req.send_header("Location", f"/moved/{urllib.parse.quote(name)}")
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        if mode == "corrupt":
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        req.send_response(200)
        req.send_header("Content-Type", "application/octet-stream")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        if mode == "truncate":
            req.wfile.write(body[: len(body) // 2])
            req.wfile.flush()
            req.close_connection = True
        elif mode == "stall":
            req.wfile.write(body[:10])
            req.wfile.flush()
            self.release.wait(30)
            req.close_connection = True
        else:
            req.wfile.write(body)
