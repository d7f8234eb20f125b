"""Test Connection over TLS and its permission probe (rows 8.06, 8.11): a private PostgreSQL
server with a throw-away certificate (the shared servers here have none), checked with
sslmode=verify-full; the session's TLS protocol is reported and anything older than TLS 1.2 is
refused; the account is probed for truncate and temporary tables too, on PostgreSQL and MariaDB."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from hub import storage
from settings_app import transfer
from tests.support.server import ServerDatabase, free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ALL_CHECKS = ["driver", *transfer.CHECKS]


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI and this machine run the suite as root
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="module")
def tls_postgres():
    """A PostgreSQL server on its own port that offers TLS with a certificate for 127.0.0.1."""
    base = Path(tempfile.mkdtemp(prefix="hub-tls-postgres-"))  # postgres must reach it, unlike tmp_path
    base.chmod(0o755)
    data, socket_dir = base / "data", base / "socket"
    key, cert = base / "server.key", base / "server.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    for directory in (data, socket_dir):
        directory.mkdir(mode=0o700)
    if os.geteuid() == 0:
        for path in (key, data, socket_dir):
            shutil.chown(path, "postgres")
    key.chmod(0o600)
    cert.chmod(0o644)
    subprocess.run(
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-N"]),
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    settings = [
        "-c", f"port={port}", "-c", "listen_addresses=127.0.0.1",
        "-c", f"unix_socket_directories={socket_dir}",
        "-c", "ssl=on", "-c", f"ssl_cert_file={cert}", "-c", f"ssl_key_file={key}", "-c", "fsync=off",
        "-c", "shared_buffers=16MB", "-c", "max_connections=10",
    ]  # fmt: skip
    server = subprocess.Popen(
        _as_postgres([str(PG_BIN / "postgres"), "-D", str(data), *settings]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                         capture_output=True).returncode != 0:  # fmt: skip
        assert server.poll() is None, "the TLS PostgreSQL server exited"
        assert time.monotonic() < deadline, "the TLS PostgreSQL server did not start"
        time.sleep(0.1)
    yield {"port": port, "ca": str(cert)}
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(base, ignore_errors=True)


def _settings(location: str, tls: dict, kind: str = "postgresql", username: str = "postgres"):
    stored = storage.StorageSettings(kind, location, username, tls=tls)
    stored.validate()
    return stored


def _by_check(results: list[dict]) -> dict:
    return {result["check"]: result for result in results}


@pytest.mark.django_db  # pytest-django refuses any connection otherwise
def test_verify_full_connects_over_tls_and_names_the_protocol(tls_postgres):
    stored = _settings(
        f"postgres://127.0.0.1:{tls_postgres['port']}/postgres",
        {"sslmode": "verify-full", "sslrootcert": tls_postgres["ca"]},
    )
    results = transfer.test_connection(stored, "")
    assert [result["check"] for result in results] == ALL_CHECKS
    assert all(result["ok"] for result in results), results
    assert _by_check(results)["tls"]["detail"] in ("encrypted (TLSv1.2)", "encrypted (TLSv1.3)")


@pytest.mark.django_db
def test_verify_full_refuses_a_certificate_it_cannot_check(tls_postgres, tmp_path):
    other = tmp_path / "other-ca.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-subj", "/CN=someone-else", "-days", "1", "-keyout", str(tmp_path / "k"), "-out", str(other)],
        check=True, capture_output=True,
    )  # fmt: skip
    stored = _settings(
        f"postgres://127.0.0.1:{tls_postgres['port']}/postgres",
        {"sslmode": "verify-full", "sslrootcert": str(other)},
    )
    results = transfer.test_connection(stored, "")
    assert [(r["check"], r["ok"]) for r in results] == [("driver", True), ("connect", False)]
    assert "certificate" in results[-1]["detail"]


def test_every_postgresql_connection_asks_for_tls_1_2_or_later():
    stored = _settings("postgres://db.example.com/hub", {"sslmode": "require"})
    assert stored.database("pw")["OPTIONS"]["ssl_min_protocol_version"] == "TLSv1.2"


@pytest.mark.parametrize("protocol", ["TLSv1", "TLSv1.1", "SSLv3"])
def test_a_session_older_than_tls_1_2_fails_the_tls_check(monkeypatch, protocol):
    monkeypatch.setattr(transfer, "session_tls", lambda connection: protocol)
    stored = _settings("mysql://db.example.com/hub", {"ssl_mode": "REQUIRED"}, kind="mysql", username="hub")
    with pytest.raises(transfer.TlsRefused, match="TLS 1.2 or later"):
        transfer._check_tls(object(), stored)
    monkeypatch.setattr(transfer, "session_tls", lambda connection: "TLSv1.2")
    assert transfer._check_tls(object(), stored) == "encrypted (TLSv1.2)"
    monkeypatch.setattr(transfer, "session_tls", lambda connection: "")  # asked for, not given
    with pytest.raises(transfer.TlsRefused, match="not encrypted"):
        transfer._check_tls(object(), stored)


@pytest.mark.django_db
@pytest.mark.parametrize("engine", ["postgres", "mariadb"])
def test_the_probe_covers_truncate_and_temporary_tables_without_tls(engine):
    """The shared servers offer no TLS: the check passes and says so when no option asks for it."""
    database = ServerDatabase(engine)
    database.create()
    try:
        if engine == "postgres":
            stored = _settings(f"postgres://127.0.0.1:5432/{database.name}", {"sslmode": "prefer"})
        else:
            stored = _settings(f"mysql://127.0.0.1:3306/{database.name}", {}, kind="mysql", username="root")
        results = transfer.test_connection(stored, "")
        assert [result["check"] for result in results] == ALL_CHECKS
        assert all(result["ok"] for result in results), results
        checks = _by_check(results)
        assert checks["tls"]["detail"] == "not encrypted (no TLS option asks for it)"
        assert checks["truncate"]["ok"] and checks["temporary table"]["ok"]
    finally:
        database.drop()
