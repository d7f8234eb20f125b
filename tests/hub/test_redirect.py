from hub.redirect import target


def test_keeps_host_path_and_query_and_swaps_the_port():
    assert target("hub.example.com:8080", "/activity/", "page=2", 8443) == (
        "https://hub.example.com:8443/activity/?page=2"
    )


def test_standard_https_port_is_left_out():
    assert target("hub.example.com", "/", "", 443) == "https://hub.example.com/"


def test_ipv6_literal_hosts_keep_their_brackets():
    assert target("[::1]:8080", "/x", "", 8443) == "https://[::1]:8443/x"


def test_path_is_quoted():
    assert target("h", "/a b\r\nSet-Cookie: x", "", 8443) == "https://h:8443/a%20b%0D%0ASet-Cookie:%20x"
