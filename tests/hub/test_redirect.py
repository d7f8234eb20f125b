"""The HTTP port redirects to HTTPS on a host Hub is known by, never to one a request names."""

import socket

from hub.redirect import allowed_hosts, application, target

ALLOWED = ("hub.example.com", "localhost", "127.0.0.1", "[::1]")


def test_keeps_host_path_and_query_and_swaps_the_port():
    assert target("hub.example.com:8080", "/activity/", "page=2", 8443, ALLOWED) == (
        "https://hub.example.com:8443/activity/?page=2"
    )


def test_standard_https_port_is_left_out():
    assert target("hub.example.com", "/", "", 443, ALLOWED) == "https://hub.example.com/"


def test_ipv6_literal_hosts_keep_their_brackets():
    assert target("[::1]:8080", "/x", "", 8443, ALLOWED) == "https://[::1]:8443/x"


def test_path_is_quoted():
    assert target("localhost", "/a b\r\nSet-Cookie: x", "", 8443, ALLOWED) == (
        "https://localhost:8443/a%20b%0D%0ASet-Cookie:%20x"
    )


def test_a_foreign_host_header_goes_to_the_configured_name_instead():
    assert target("evil.example", "/settings/", "", 8443, ALLOWED) == "https://hub.example.com:8443/settings/"
    assert target("evil.example:8080", "/", "", 8443, ALLOWED).startswith("https://hub.example.com:8443/")


def test_host_names_compare_without_case():
    assert target("HUB.Example.COM:8080", "/", "", 8443, ALLOWED) == "https://hub.example.com:8443/"


def test_without_configured_names_the_machine_s_own_name_comes_first():
    names = allowed_hosts(())
    assert names[0] == socket.gethostname().lower() and "localhost" in names


def test_the_listener_reads_its_names_from_the_configuration(monkeypatch):
    from hub import redirect

    monkeypatch.setenv("HUB_SERVER_HOSTNAMES", "hub.example.com")
    monkeypatch.setenv("HUB_SERVER_PORT", "9443")
    redirect._settings.cache_clear()
    try:
        seen = {}
        body = application(
            {"HTTP_HOST": "evil.example", "PATH_INFO": "/x", "QUERY_STRING": ""},
            lambda status, headers: seen.update(status=status, headers=dict(headers)),
        )
    finally:
        redirect._settings.cache_clear()
    assert seen["status"].startswith("301")
    assert seen["headers"]["Location"] == "https://hub.example.com:9443/x"
    assert b"evil" not in b"".join(body)
