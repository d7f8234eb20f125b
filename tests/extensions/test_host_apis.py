"""The ``ldap`` and ``httpClient`` host APIs against real servers: Debian's OpenLDAP, a local HTTP
server and a forward proxy that demands Basic credentials."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from extensions.errors import ExtensionError, ExtensionFailed
from extensions.hosts import HostApis
from extensions.hosts import ldap as ldap_host
from extensions.runtime import invoke
from tests.extensions import slapd
from tests.support.netservers import Answer, BasicAuthProxy, ScriptedServer, free_port


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    server = slapd.start(tmp_path_factory.mktemp("slapd"))
    yield server
    ldap_host.close_all()
    server.stop()


def call(script: str, *args):
    return invoke(script, "mapPersonToRepository", list(args), HostApis())


# The guide's LDAP example with its URL, principal, password and base pointed at a test directory.
LDAP_EXAMPLE = """
function mapPersonToRepository(modelPerson) {
  ldap.connect('%(url)s', '%(principal)s', '%(password)s');
  var results = ldap.search('%(base)s', 'cn='+ldap.escape(modelPerson['id']))
  if (results.length == 0) {
    throw 'no person found with id='+modelPerson['id'];
  }
  return results[0]['sn'];
}
"""


def example(directory) -> str:
    return LDAP_EXAMPLE % {
        "url": directory.url,
        "principal": slapd.ADMIN,
        "password": slapd.ADMIN_PASSWORD,
        "base": slapd.BASE,
    }


def test_the_documented_ldap_lookup_returns_the_surname(directory):
    assert call(example(directory), {"id": "John Smith"}).value == "Smith"


def test_escape_makes_special_characters_literal(directory):
    assert call(example(directory), {"id": "Pat (Paddy) O*Brien"}).value == "O'Brien"
    with pytest.raises(ExtensionFailed, match=r"no person found with id=Pat \(Paddy\) O\*"):
        call(example(directory), {"id": "Pat (Paddy) O*"})


def test_search_returns_only_the_fields_asked_for(directory):
    script = f"""function mapPersonToRepository(p) {{
      ldap.connect('{directory.url}', '{slapd.ADMIN}', '{slapd.ADMIN_PASSWORD}');
      return ldap.search('ou=people,dc=example,dc=org', '(mail=*@example.org)', ['uid', 'mail']);
    }}"""
    results = call(script, {}).value
    assert sorted(r["uid"] for r in results) == ["jsmith", "mbrown", "o*brien"]
    assert all(set(r) == {"dn", "uid", "mail"} for r in results)


def test_connections_are_pooled_and_never_closed_by_the_script(directory):
    call(example(directory), {"id": "Mary Brown"})
    before = dict(ldap_host._pool)
    call(example(directory), {"id": "John Smith"})
    assert ldap_host._pool == before and len(before) == 1


def test_a_server_that_cannot_be_reached_is_1004E():
    script = f"""function mapPersonToRepository(p) {{
      ldap.connect('ldap://127.0.0.1:{free_port()}', 'cn=admin,dc=example,dc=org', 'x');
      return ldap.search('dc=example,dc=org', 'cn=x');
    }}"""
    with pytest.raises(ExtensionError) as failure:
        call(script, {})
    assert failure.value.code == "CCRRTT-1004E"


def test_wrong_credentials_are_1004E(directory):
    script = f"""function mapPersonToRepository(p) {{
      ldap.connect('{directory.url}', '{slapd.ADMIN}', 'wrong');
      return ldap.search('dc=example,dc=org', 'cn=x');
    }}"""
    with pytest.raises(ExtensionError) as failure:
        call(script, {})
    assert failure.value.code == "CCRRTT-1004E" and "wrong" not in failure.value.message


def test_a_search_below_a_missing_base_finds_nothing(directory):
    script = f"""function mapPersonToRepository(p) {{
      ldap.connect('{directory.url}', '{slapd.ADMIN}', '{slapd.ADMIN_PASSWORD}');
      return ldap.search('dc=other,dc=com', 'cn=x').length;
    }}"""
    assert call(script, {}).value == 0


class HangsUpOnSearch:
    """A server that accepts a bind and breaks the connection when asked to search: the failure
    while talking to a server that a real slapd cannot be made to show on demand."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.url = f"ldap://127.0.0.1:{self.socket.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            with client:
                request = client.recv(4096)
                if len(request) > 4 and request[0] == 0x30 and request[2] == 0x02:
                    message_id = request[4]  # short form: 30 len 02 01 id …
                    client.sendall(
                        bytes(
                            [
                                0x30,
                                0x0C,
                                0x02,
                                0x01,
                                message_id,
                                0x61,
                                0x07,
                                0x0A,
                                0x01,
                                0x00,
                                0x04,
                                0x00,
                                0x04,
                                0x00,
                            ]
                        )
                    )
                    client.recv(4096)  # the search request: hang up instead of answering

    def close(self):
        self.socket.close()


def test_a_failure_while_searching_is_1005E():
    server = HangsUpOnSearch()
    script = f"""function mapPersonToRepository(p) {{
      ldap.connect('{server.url}', 'cn=admin,dc=example,dc=org', 'secret');
      return ldap.search('dc=example,dc=org', 'cn=x');
    }}"""
    try:
        with pytest.raises(ExtensionError) as failure:
            call(script, {})
    finally:
        server.close()
    assert failure.value.code == "CCRRTT-1005E"


# --- httpClient ------------------------------------------------------------------------------------


@pytest.fixture
def api():
    def answer(seen):
        return Answer(
            200,
            json.dumps({"path": seen.path, "header": seen.headers.get("my-special-header")}).encode(),
            {"Content-Type": "application/json;charset=UTF-8", "Vary": "Accept-Encoding"},
        )

    server = ScriptedServer(answer)
    yield server
    server.close()


@pytest.fixture
def proxy():
    server = BasicAuthProxy("proxy-user", "proxy-secret")
    yield server
    server.close()


def get(script: str):
    return invoke(f"function transform(context, input) {{ {script} }}", "transform", [{}, None], HostApis())


def test_the_documented_get_with_parameters_and_headers(api):
    result = get(f"""
      var response = httpClient.request()
          .uri('{api.url}/my/rest/api')
          .parameter('first-param', 'first-value')
          .parameter('second-param', 'second-value')
          .header('my-special-header', 'header-value')
          .GET().response()
      if (response.statusCode() == 200) {{
          var responseJson = JSON.parse(response.content());
          return [responseJson.path, responseJson.header, response.headers()['Content-Type']];
      }}""")
    assert result.value == [
        "/my/rest/api?first-param=first-value&second-param=second-value",
        "header-value",
        ["application/json;charset=UTF-8"],
    ]
    assert [c.api for c in result.host_calls] == ["httpClient.send"]


def test_a_get_through_a_proxy_with_basic_credentials(api, proxy):
    host, port = proxy.url.removeprefix("http://").split(":")
    result = get(f"""
      var response = httpClient
          .request()
          .proxy("{host}", {port}, "proxy-user", "proxy-secret")
          .uri('{api.url}/through')
          .GET()
          .response();
      return [response.statusCode(), JSON.parse(response.content()).path];""")
    assert result.value == [200, "/through"]
    assert any("/through" in line for line in proxy.requests)
    assert "proxy-secret" not in result.host_calls[0].shown()


def test_wrong_proxy_credentials_answer_407(api, proxy):
    host, port = proxy.url.removeprefix("http://").split(":")
    script = (
        f"return httpClient.request().proxy('{host}', {port}, 'proxy-user', 'nope')"
        f".uri('{api.url}/x').GET().response().statusCode();"
    )
    assert get(script).value == 407


def test_any_status_is_the_scripts_to_judge():
    server = ScriptedServer(lambda seen: Answer(404, b"missing", {"Content-Type": "text/plain"}))
    try:
        assert (
            get(f"return httpClient.request().uri('{server.url}/x').GET().response().statusCode();").value
            == 404
        )
    finally:
        server.close()


def test_tls_is_verified_as_for_repositories(tmp_path):
    server = ScriptedServer(lambda seen: Answer(), tls_dir=tmp_path)
    try:
        with pytest.raises(ExtensionFailed, match="certificate"):
            get(f"return httpClient.request().uri('{server.url}/x').GET().response().statusCode();")
    finally:
        server.close()
