"""Real SMTP servers on loopback for the notification tests: aiosmtpd's server, plain, with STARTTLS
on a throwaway certificate, with implicit TLS (SMTPS), and requiring a login. Messages it accepts are
parsed with the standard library, so tests assert on what a mail client would see."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hub.tls import write_self_signed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


class _Authenticator:
    def __init__(self, username: str, password: str):
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.username,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


class _ImplicitTls(Controller):
    """SMTPS: TLS from the first byte. aiosmtpd's ``ssl_context`` wraps the listening socket; the
    controller's own ready-check must then speak TLS too."""

    def _trigger_server(self):
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with (
            socket.create_connection((self.hostname, self.port), 1.0) as raw,
            context.wrap_socket(raw) as tls,
        ):
            tls.recv(1024)


@dataclass
class SmtpServer:
    kind: str  # plain | starttls | smtps | auth
    directory: Path
    username: str = "hub-mailer"
    password: str = "mailer-Pa55-for-tests"
    mailbox: Mailbox = field(default_factory=Mailbox)
    port: int = 0

    def __post_init__(self):
        self.cert = self.directory / "smtp-cert.pem"
        key = self.directory / "smtp-key.pem"
        write_self_signed(self.cert, key, "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.port = free_port()
        options = {"hostname": "127.0.0.1", "port": self.port}
        if self.kind == "starttls":
            options.update(tls_context=context, require_starttls=True)
        if self.kind == "auth":
            options.update(authenticator=_Authenticator(self.username, self.password), auth_required=True,
                           auth_require_tls=False)  # fmt: skip
        controller_class = Controller
        if self.kind == "smtps":
            options.update(ssl_context=context)
            controller_class = _ImplicitTls
        self.controller = controller_class(self.mailbox, **options)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def messages(self):
        return self.mailbox.messages
