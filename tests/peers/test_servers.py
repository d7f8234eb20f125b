"""The real peer servers start, take an issue over REST, give it back, and stop.

Run without Django: ``python3 -m pytest tests/peers -p no:django -q``.
Needs ``deploy/ci/install-peers.sh`` to have run; nothing here is skipped: a server that
cannot start fails its test with the server's log tail.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from .servers import PeerServer, PeerStartError, start_redmine, start_roundup


def _request(method: str, url: str, headers: dict[str, str], body: dict | None = None):
    data = None
    headers = dict(headers)
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - http://127.0.0.1 only
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text) if text.strip() else None
    except ValueError:
        return status, text


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _start(starter, workdir) -> PeerServer:
    try:
        return starter(workdir)
    except PeerStartError as exc:
        pytest.fail(f"{starter.__name__} failed:\n{exc}", pytrace=False)


def _stop_and_check_closed(server: PeerServer) -> None:
    port = server.port
    server.stop()
    assert not server.running
    assert not _port_open(port), f"{server.kind} port {port} still open after stop()"


@pytest.mark.slow
def test_redmine_issue_roundtrip_and_private_database(tmp_path, record_property):
    server = _start(start_redmine, tmp_path / "first")
    try:
        record_property("redmine_start_seconds", server.info["start_seconds"])
        built = server.info["template_built"]
        print(f"redmine start: {server.info['start_seconds']}s (template built: {built})")
        headers = server.api_headers()
        issue = {
            "project_id": server.info["project_id"],
            "tracker_id": server.info["trackers"][0]["id"],
            "subject": "Hub peer test issue",
            "description": "created over REST by tests/peers",
        }
        status, body = _request("POST", f"{server.url}/issues.json", headers, {"issue": issue})
        assert status == 201, (status, body, server.log_tail())
        issue_id = body["issue"]["id"]

        status, body = _request("GET", f"{server.url}/issues/{issue_id}.json", headers)
        assert status == 200, (status, body)
        assert body["issue"]["subject"] == "Hub peer test issue"
        assert body["issue"]["description"] == "created over REST by tests/peers"
        assert body["issue"]["project"]["id"] == server.info["project_id"]
        assert body["issue"]["status"]["name"] == "New"

        # The admin password works too (basic auth), and the API refuses a wrong key.
        status, _ = _request("GET", f"{server.url}/users/current.json", {"X-Redmine-API-Key": "0" * 40})
        assert status == 401
    finally:
        _stop_and_check_closed(server)

    # A second start gets a fresh copy of the template: the first one's issue is not there.
    second = _start(start_redmine, tmp_path / "second")
    try:
        print(f"redmine second start: {second.info['start_seconds']}s")
        assert second.info["template_built"] is False
        status, body = _request("GET", f"{second.url}/issues.json?status_id=*", second.api_headers())
        assert status == 200, (status, body)
        assert body["total_count"] == 0
    finally:
        _stop_and_check_closed(second)


@pytest.mark.slow
def test_roundup_issue_roundtrip(tmp_path, record_property):
    server = _start(start_roundup, tmp_path)
    try:
        record_property("roundup_start_seconds", server.info["start_seconds"])
        print(f"roundup start: {server.info['start_seconds']}s (roundup {server.info['roundup_version']})")
        assert server.url.endswith("/")
        headers = server.api_headers()
        new = {"title": "Hub peer test issue", "priority": "bug"}

        # Roundup's CSRF defence: a write without Origin / X-Requested-With is refused.
        bare = {k: v for k, v in headers.items() if k in ("Authorization", "Accept")}
        status, body = _request("POST", f"{server.url}rest/data/issue", bare, new)
        assert status == 400, (status, body)

        status, body = _request("POST", f"{server.url}rest/data/issue", headers, new)
        assert status == 201, (status, body, server.log_tail())
        issue_id = body["data"]["id"]

        status, body = _request("GET", f"{server.url}rest/data/issue/{issue_id}", headers)
        assert status == 200, (status, body)
        attrs = body["data"]["attributes"]
        assert attrs["title"] == "Hub peer test issue"
        assert attrs["priority"]["id"]
    finally:
        _stop_and_check_closed(server)
