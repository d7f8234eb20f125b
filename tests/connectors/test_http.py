"""The shared HTTP layer against real servers on loopback: TLS with a self-signed certificate, a
proxy that demands credentials, refused credentials, an unreachable host, 429/503 with Retry-After,
and secrets kept out of the log. Every HTTP connector inherits this behaviour."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from connectors.errors import (
    AuthenticationExpired,
    AuthenticationFailed,
    CredentialsRefused,
    InsecureConnectionRefused,
    InvalidSettings,
    Overloaded,
    ProxyCredentialsRefused,
    RateLimited,
    Transient,
    Unreachable,
    ValuesNotAccepted,
)
from connectors.http import HttpSession, retry_after_seconds, server_time
from connectors.types import RepositorySettings
from tests.support.netservers import Answer, BasicAuthProxy, ScriptedServer, TlsRelay, free_port

API_KEY = "k3y-that-must-never-be-logged"


def settings(url: str, **more) -> RepositorySettings:
    return RepositorySettings(kind="test", url=url, timeout=5, **more)


def key_checked(seen):
    if seen.headers.get("X-Redmine-API-Key") != API_KEY:
        return Answer(401, b'{"errors": ["not authorized"]}')
    return Answer(200, b'{"projects": []}')


@pytest.fixture
def server():
    running = ScriptedServer(key_checked)
    yield running
    running.close()


@pytest.fixture
def tls_server(tmp_path):
    running = ScriptedServer(key_checked, tls_dir=tmp_path)
    yield running
    running.close()


@pytest.fixture
def proxy():
    running = BasicAuthProxy("proxyuser", "proxy-pass-secret")
    yield running
    running.close()


def session(repository: RepositorySettings, **kwargs) -> HttpSession:
    return HttpSession(repository, headers={"X-Redmine-API-Key": API_KEY}, **kwargs)


def test_right_credentials_get_the_answer(server):
    with session(settings(server.url)) as http:
        assert http.get_json("projects.json") == {"projects": []}


def test_wrong_credentials_are_refused_with_their_code(server):
    http = HttpSession(settings(server.url), headers={"X-Redmine-API-Key": "wrong"})
    with pytest.raises(CredentialsRefused) as raised:
        http.get_json("projects.json")
    assert raised.value.code == "CCRRTT-61101E" and not raised.value.transient
    assert "wrong" not in str(raised.value)


def test_a_401_after_the_credentials_were_accepted_is_an_expired_authentication_1104W():
    answers = iter([Answer(200, b"{}"), Answer(401, b"{}")])
    running = ScriptedServer(lambda seen: next(answers))
    try:
        http = session(settings(running.url))
        http.get_json("projects.json")
        with pytest.raises(AuthenticationExpired) as raised:
            http.get_json("projects.json")
        assert raised.value.code == "CCRRTT-1104W" and raised.value.transient
    finally:
        running.close()


@pytest.mark.parametrize(
    "answer",
    [
        Answer(200, b"<html><form action=/sso>Sign in</form></html>", {"Content-Type": "text/html"}),
        Answer(200, b'{"user": null}'),
    ],
    ids=["sign-in page", "no user"],
)
def test_an_authentication_check_answered_without_a_user_fails_with_1107E(answer):
    """A single sign-on gateway in front of the tool answers Redmine's users/current.json with its
    own sign-in page: not a refusal of the credentials (61101E) but a failed authentication."""
    from connectors.redmine.connector import RedmineConnector

    running = ScriptedServer(lambda seen: answer)
    try:
        redmine = RedmineConnector(settings(running.url, token=API_KEY))
        with redmine, pytest.raises(AuthenticationFailed) as raised:
            redmine.test_connection()
        assert raised.value.code == "CCRRTT-1107E" and not raised.value.transient
        message = raised.value.message
        assert "Authentication failed" in message and "/users/current.json" in message
        assert API_KEY not in str(raised.value)
    finally:
        running.close()


def test_unreachable_host_is_transient():
    with pytest.raises(Unreachable) as raised:
        session(settings(f"http://127.0.0.1:{free_port()}")).get_json("projects.json")
    assert raised.value.code == "CCRRTT-1000E" and raised.value.transient


def test_self_signed_certificate_is_refused_unless_insecure_is_allowed(tls_server):
    with pytest.raises(InsecureConnectionRefused) as raised:
        session(settings(tls_server.url)).get_json("projects.json")
    assert raised.value.code == "CCRRTT-1113E" and not raised.value.transient
    assert not tls_server.seen, "no request may reach a server that failed verification"

    allowed = session(settings(tls_server.url, allow_insecure=True))
    assert allowed.get_json("projects.json") == {"projects": []}


def test_proxy_with_right_credentials_forwards_plain_http(server, proxy):
    repository = settings(
        server.url, proxy_url=proxy.url, proxy_username="proxyuser", proxy_password="proxy-pass-secret"
    )
    assert session(repository).get_json("projects.json") == {"projects": []}
    assert proxy.requests == [f"GET {server.url}/projects.json"]


def test_proxy_tunnels_https_with_right_credentials(tls_server, proxy):
    repository = settings(
        tls_server.url,
        allow_insecure=True,
        proxy_url=proxy.url,
        proxy_username="proxyuser",
        proxy_password="proxy-pass-secret",
    )
    assert session(repository).get_json("projects.json") == {"projects": []}
    assert proxy.requests == [f"CONNECT {tls_server.url.removeprefix('https://')}"]


@pytest.mark.parametrize("target", ["server", "tls_server"])
def test_proxy_refusing_credentials_is_reported_with_its_code(target, proxy, request):
    upstream = request.getfixturevalue(target)
    repository = settings(
        upstream.url,
        allow_insecure=True,
        proxy_url=proxy.url,
        proxy_username="proxyuser",
        proxy_password="wrong",
    )
    with pytest.raises(ProxyCredentialsRefused) as raised:
        session(repository).get_json("projects.json")
    assert raised.value.code == "CCRRTT-61102E"
    assert not upstream.seen


def test_rate_limit_with_a_long_retry_after_is_raised_with_the_wait():
    limited = ScriptedServer(lambda seen: Answer(429, b"{}", {"Retry-After": "120"}))
    try:
        with pytest.raises(RateLimited) as raised:
            session(settings(limited.url)).get_json("issues.json")
        assert raised.value.code == "CCRRTT-61105I" and raised.value.transient
        assert raised.value.retry_after == 120
        assert len(limited.seen) == 1
    finally:
        limited.close()


def test_a_short_retry_after_is_waited_out_and_the_request_sent_again():
    def busy_once(seen):
        if len(limited.seen) == 1:
            return Answer(503, b"{}", {"Retry-After": "0"})
        return Answer(200, b'{"issues": []}')

    limited = ScriptedServer(busy_once)
    try:
        assert session(settings(limited.url)).get_json("issues.json") == {"issues": []}
        assert len(limited.seen) == 2
    finally:
        limited.close()


def test_overload_without_retry_after_is_raised_at_once():
    overloaded = ScriptedServer(lambda seen: Answer(503, b"busy", {}))
    try:
        with pytest.raises(Overloaded) as raised:
            session(settings(overloaded.url)).get_json("issues.json")
        assert raised.value.code == "CCRRTT-61104E" and raised.value.retry_after is None
        assert len(overloaded.seen) == 1
    finally:
        overloaded.close()


def test_server_errors_are_transient_and_refusals_name_fields():
    def answer(seen):
        if seen.path.startswith("/broken"):
            return Answer(502, b"bad gateway", {})
        return Answer(422, b'{"errors": {"subject": ["cannot be blank"]}}')

    peer = ScriptedServer(answer)
    try:
        with pytest.raises(Transient) as raised:
            session(settings(peer.url)).get_json("broken")
        assert raised.value.code == "CCRRTT-30013E"
        with pytest.raises(ValuesNotAccepted) as refused:
            session(settings(peer.url)).request("POST", "issues.json", json={"issue": {}})
        assert refused.value.fields == {"subject": "cannot be blank"}
    finally:
        peer.close()


def test_download_stops_at_the_size_limit():
    peer = ScriptedServer(lambda seen: Answer(200, b"z" * 5000, {"Content-Type": "application/octet-stream"}))
    try:
        http = session(settings(peer.url))
        assert b"".join(http.download("file", filename="z.bin", max_bytes=5000)) == b"z" * 5000
        with pytest.raises(ValuesNotAccepted) as raised:
            b"".join(http.download("file", filename="z.bin", max_bytes=4999))
        assert "z.bin" in raised.value.fields
    finally:
        peer.close()


def test_requests_are_logged_at_debug_without_secrets(server, proxy, caplog):
    repository = settings(
        server.url, proxy_url=proxy.url, proxy_username="proxyuser", proxy_password="proxy-pass-secret"
    )
    with caplog.at_level(logging.DEBUG, logger="hub.connectors.http"):
        session(repository).get_json("projects.json", params={"key": API_KEY, "limit": "5"})
    text = caplog.text
    assert "projects.json" in text and "limit=5" in text and "200" in text
    assert API_KEY not in text and "proxy-pass-secret" not in text
    assert "[redacted]" in text


def test_settings_that_cannot_work_are_refused_before_any_request():
    with pytest.raises(InvalidSettings) as raised:
        session(settings("ftp://example.invalid/"))
    assert raised.value.code == "CCRRTT-61103E"
    with pytest.raises(InvalidSettings):
        session(settings("http://127.0.0.1:1/", proxy_url="socks9://nowhere"))


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("soon") is None


def test_redirects_are_reported_not_followed():
    def answer(seen):
        if seen.path.startswith("/to-http"):
            return Answer(302, b"", {"Location": "http://127.0.0.1:1/login"})
        return Answer(302, b"", {"Location": "/login"})

    peer = ScriptedServer(answer)
    try:
        with pytest.raises(InvalidSettings) as raised:
            session(settings(peer.url)).get_json("projects.json")
        assert "/login" in str(raised.value) and len(peer.seen) == 1
    finally:
        peer.close()


def test_redirect_from_https_to_http_is_an_insecure_connection(tmp_path):
    peer = ScriptedServer(
        lambda seen: Answer(301, b"", {"Location": "http://127.0.0.1:1/"}), tls_dir=tmp_path
    )
    try:
        with pytest.raises(InsecureConnectionRefused) as raised:
            session(settings(peer.url, allow_insecure=True)).get_json("projects.json")
        assert raised.value.code == "CCRRTT-30014E"
    finally:
        peer.close()


def test_a_connector_can_remap_a_status_for_one_call(server):
    http = HttpSession(settings(server.url), headers={"X-Redmine-API-Key": "wrong"})
    with pytest.raises(ValuesNotAccepted):
        http.get_json(
            "projects.json",
            errors={401: lambda response: ValuesNotAccepted("no", fields={"x": "not allowed"})},
        )


def test_server_time_comes_from_the_date_header(server):
    response = session(settings(server.url)).request("GET", "projects.json")
    assert abs((server_time(response) - dt.datetime.now(dt.UTC)).total_seconds()) < 5


def test_tls_relay_puts_a_plain_server_behind_an_untrusted_certificate(server, tmp_path):
    """The contract kit's TLS tests put each real peer behind this relay."""
    relay = TlsRelay("127.0.0.1", server.server.server_address[1], tmp_path)
    try:
        with pytest.raises(InsecureConnectionRefused):
            session(settings(relay.url)).get_json("projects.json")
        assert session(settings(relay.url, allow_insecure=True)).get_json("projects.json") == {"projects": []}
        assert len(server.seen) == 1
    finally:
        relay.close()
