"""The production shape of deploy/ starts like ``make run`` does: ``manage.py prepare_hub`` (the
hub-prepare unit) issues the evaluation license and the setup token, and deploy/hub-web.sh listens
on the address and port of hub.properties with its certificate — real processes, real HTTPS."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest

from hub import tls
from tests.support.live import MASTER_PASSWORD, environment_for, manage
from tests.support.server import REPO, free_port, insecure_context


def _fresh(tmp_path, server_database) -> tuple[dict, int]:
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    cert, key = tmp_path / "operator.crt", tmp_path / "operator.key"
    tls.write_self_signed(cert, key, hostname="hub.operator.example")
    (home / "hub.properties").write_text(
        f"server.port={port}\nserver.redirect.port={free_port()}\nserver.address=127.0.0.1\n"
        f"server.ssl.certificate={cert}\nserver.ssl.certificate-key={key}\nserver.web.workers=1\n"
    )
    # only what a unit's environment holds: the data directory and the database (hub.default)
    return environment_for(home, server_database), port


def _served_certificate(port: int) -> bytes:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        insecure_context().wrap_socket(raw) as tls_socket,
    ):
        return tls_socket.getpeercert(binary_form=True)


def _health(port: int) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}/api/health", context=insecure_context(), timeout=30
        ) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_for_port(process: subprocess.Popen, port: int, deadline_seconds: float = 90) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"hub-web.sh exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {deadline_seconds} s")


@pytest.mark.slow
def test_prepare_issues_the_license_and_hub_web_serves_where_hub_properties_says(tmp_path, server_database):
    environment, port = _fresh(tmp_path, server_database)
    prepared = manage(environment, "prepare_hub")
    assert "30-day evaluation license" in prepared
    assert "setup token" in prepared and (tmp_path / "home" / "setup-token").exists()
    assert "evaluation license" not in manage(environment, "prepare_hub")  # once per instance
    manage(environment, "set_master_password", "--password-stdin", stdin=MASTER_PASSWORD + "\n")

    web = subprocess.Popen(
        ["sh", str(REPO / "deploy" / "hub-web.sh")], env=environment, start_new_session=True
    )
    try:
        _wait_for_port(web, port)
        status, body = _health(port)
        assert body["checks"]["licenseConfigured"]["status"] == "pass"
        assert status == 200, body
        expected = ssl.PEM_cert_to_DER_cert((tmp_path / "operator.crt").read_text())
        assert _served_certificate(port) == expected
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=60)


@pytest.mark.slow
def test_the_redirect_unit_listens_on_the_redirect_port_of_hub_properties(tmp_path, server_database):
    environment, port = _fresh(tmp_path, server_database)
    redirect_port = int(
        (tmp_path / "home" / "hub.properties").read_text().split("server.redirect.port=")[1].split()[0]
    )
    redirect = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "python"), "manage.py", "serve", "redirect"],
        cwd=REPO,
        env=environment,
        start_new_session=True,
    )
    try:
        _wait_for_port(redirect, redirect_port)
        with socket.create_connection(("127.0.0.1", redirect_port), timeout=10) as sock:
            sock.sendall(b"GET /activity/ HTTP/1.0\r\nHost: localhost\r\n\r\n")
            answer = sock.recv(4096).decode()
        assert " 301 " in answer.splitlines()[0]
        assert f"Location: https://localhost:{port}/activity/" in answer
    finally:
        os.killpg(redirect.pid, signal.SIGTERM)
        redirect.wait(timeout=60)


def test_the_worker_unit_names_each_worker_in_a_form_celery_expands():
    from celery.utils.nodenames import gethostname, host_format

    from tests.acceptance.stack import exec_start

    argv = exec_start("hub-worker@.service", "2")  # with systemd's specifiers expanded (%i, %%)
    hostname = argv[argv.index("--hostname") + 1]
    assert host_format(hostname) == f"hub-worker-2@{gethostname()}"  # %H would stop the worker
