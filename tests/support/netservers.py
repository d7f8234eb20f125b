"""Small real servers on loopback for testing the HTTP layer: an HTTP(S) server whose answers a
test scripts, and an HTTP proxy that demands Basic credentials (plain forwarding and CONNECT
tunnels). Built on the standard library only, so they share no code with httpx."""

from __future__ import annotations

import base64
import http.client
import http.server
import select
import socket
import socketserver
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hub.tls import write_self_signed


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Threaded(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Running:
    """A loopback server serving in a thread until ``close``."""

    server: _Threaded

    def _start(self, scheme: str) -> None:
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ScriptedServer(_Running):
    """``answer(seen) -> Answer`` decides each reply; every request is recorded in ``seen``."""

    def __init__(self, answer: Callable[[Seen], Answer], *, tls_dir: Path | None = None):
        self.seen: list[Seen] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = _read_chunked(self.rfile)
                request = Seen(self.command, self.path, dict(self.headers), body)
                owner.seen.append(request)
                reply = answer(request)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = _Threaded(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls_dir is not None:
            cert, key = tls_dir / "server.crt", tls_dir / "server.key"
            write_self_signed(cert, key, hostname="localhost")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self._start(scheme)


def _read_chunked(stream) -> bytes:
    body = b""
    while True:
        size = int(stream.readline().strip() or b"0", 16)
        if size == 0:
            stream.readline()
            return body
        body += stream.read(size)
        stream.readline()


class BasicAuthProxy(_Running):
    """An HTTP proxy on loopback that answers 407 unless the client sends the right
    Proxy-Authorization. Forwards absolute-URI requests and tunnels CONNECT."""

    def __init__(self, username: str, password: str):
        expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _authorized(self) -> bool:
                owner.requests.append(f"{self.command} {self.path}")
                if self.headers.get("Proxy-Authorization") == expected:
                    return True
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="test proxy"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False

            def do_CONNECT(self):
                if not self._authorized():
                    return
                host, _, port = self.path.partition(":")
                upstream = socket.create_connection((host, int(port)))
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True
                _pipe(self.connection, upstream)

            def _forward(self):
                if not self._authorized():
                    return
                target = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-authorization"}
                upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=10)
                path = target.path + (f"?{target.query}" if target.query else "")
                upstream.request(self.command, path, body=body, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = _Threaded(("127.0.0.1", 0), Handler)
        self._start("http")


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    sockets = [client, upstream]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, 10)
            if broken or not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                while isinstance(source, ssl.SSLSocket) and source.pending():
                    data += source.recv(source.pending())  # decrypted bytes select() cannot see
                (upstream if source is client else client).sendall(data)
    finally:
        upstream.close()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TlsRelay(_Running):
    """Terminates TLS with a self-signed certificate and relays the plain bytes to an upstream
    host:port — puts any HTTP server "behind HTTPS" for the TLS tests of a connector."""

    def __init__(self, upstream_host: str, upstream_port: int, tls_dir: Path):
        cert, key = tls_dir / "relay.crt", tls_dir / "relay.key"
        write_self_signed(cert, key, hostname="localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    secure = context.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate: exactly what some tests expect
                _pipe(secure, socket.create_connection((upstream_host, upstream_port)))

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self._start("https")
