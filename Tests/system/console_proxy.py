"""Test-only HTTP server for the web console against RabbitMQ: serves the three console files the
way warren-server does (`/` -> index.html, `/console.js`, `/console.css`) and reverse-proxies
`/api/...` to a RabbitMQ management listener, so the console and the API share one origin.

    python3 Tests/system/console_proxy.py    # a private RabbitMQ with management + the console
"""
import http.client
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "Sources" / "WarrenManagement" / "Console"
FILES = {"/": ("index.html", "text/html; charset=utf-8"),
         "/index.html": ("index.html", "text/html; charset=utf-8"),
         "/console.js": ("console.js", "text/javascript; charset=utf-8"),
         "/console.css": ("console.css", "text/css; charset=utf-8")}
PASSED_HEADERS = ("authorization", "content-type", "accept", "x-reason")
# What warren-server sends with the console files; the browser test fails on any violation.
SECURITY_HEADERS = [("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
                    ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-cache")]


def start(api_port: int, api_host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Starts the server on loopback (a free port unless given) in a daemon thread; its URL is
    server.url."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status, body: bytes, headers):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _proxy(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() in PASSED_HEADERS}
            conn = http.client.HTTPConnection(api_host, api_port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                kept = [(k, v) for k, v in r.getheaders()
                        if k.lower() in ("content-type", "www-authenticate", "location")]
                self._send(r.status, data, kept)
            finally:
                conn.close()

        def _dispatch(self):
            if self.path.startswith("/api/") or self.path == "/api":
                return self._proxy()
            path = self.path.split("?", 1)[0]
            if self.command in ("GET", "HEAD") and path in FILES:
                name, ctype = FILES[path]
                return self._send(200, (CONSOLE_DIR / name).read_bytes(),
                                  [("Content-Type", ctype), *SECURITY_HEADERS])
            self._send(404, b'{"error":"Object Not Found","reason":"Not Found"}',
                       [("Content-Type", "application/json")])

        do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _dispatch

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, name="console-proxy", daemon=True).start()
    return server


if __name__ == "__main__":  # development: a RabbitMQ node with management, and the console
    import signal
    import sys
    import tempfile
    import time
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # kill PID stops RabbitMQ too
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Conformance"))
    from brokers import free_port, start_rabbitmq
    mgmt = free_port()
    broker = start_rabbitmq(tempfile.mkdtemp(prefix="console-rmq-"), plugins=["rabbitmq_management"],
                            config_lines=[f"management.tcp.port = {mgmt}", "management.tcp.ip = 127.0.0.1",
                                          "collect_statistics_interval = 1000"])
    proxy = start(mgmt)
    print(f"console at {proxy.url}  (RabbitMQ API on {mgmt}, AMQP {broker.url})", flush=True)
    try:
        while broker.alive():
            time.sleep(1)
    finally:
        broker.stop()
    os._exit(0)
