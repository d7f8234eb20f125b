"""Storage Settings for the two kinds no server here can run, Oracle and SQL Server: what can be
checked without one. Their settings are validated and turned into the Django ``DATABASES`` entry
their backend reads (TLS as TCPS or ODBC options), their drivers are checked, their backends load,
and the transfer prepares a row for them as the ORM would. Connecting, migrating and copying into
them is not tested (docs/operations.md, "Oracle and SQL Server"). Also MySQL's TLS options, which
the transfer tests against the real MariaDB do not set."""

import pytest
from django.db import models
from django.db.utils import load_backend
from django.utils import timezone

from activity.models import ArtifactPair
from hub import storage
from settings_app import transfer


def wrapper(database: dict):
    """The kind's Django backend, loaded and configured, never connected."""
    settings = {**database, "TIME_ZONE": None, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False, "TEST": {}}
    return load_backend(database["ENGINE"]).DatabaseWrapper(settings, "storage-kind-probe")


def test_sql_server_refuses_a_windows_account_with_30010E():
    stored = storage.StorageSettings("mssql", "mssql://db.example.com:1433/hub", r"CORP\hub")
    with pytest.raises(storage.StorageError) as refused:
        stored.validate()
    assert refused.value.code == "CCRRTT-30010E" and "SQL authentication" in refused.value.message


def test_sql_server_takes_its_tls_options_into_the_odbc_connection():
    tls = {"Encrypt": "yes", "TrustServerCertificate": "no"}
    stored = storage.StorageSettings("mssql", "mssql://db.example.com:1433/hub", "hub", tls=tls)
    stored.validate()
    database = stored.database("pw")
    assert (database["ENGINE"], database["HOST"], database["PORT"], database["NAME"]) == (
        "mssql", "db.example.com", "1433", "hub",
    )  # fmt: skip
    assert database["OPTIONS"] == {
        "driver": "ODBC Driver 18 for SQL Server",
        "extra_params": "Encrypt=yes;TrustServerCertificate=no",
    }
    with pytest.raises(storage.StorageError):
        storage.StorageSettings("mssql", stored.location, "hub", tls={"Encrypt": "maybe"}).validate()


def test_oracle_over_tcps_connects_with_a_descriptor_on_port_2484():
    tcps = {"protocol": "tcps"}
    stored = storage.StorageSettings("oracle", "oracle://db.example.com/HUBPDB", "hub", tls=tcps)
    stored.validate()
    database = stored.database("pw")
    assert database["NAME"] == (
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcps)(HOST=db.example.com)(PORT=2484))"
        "(CONNECT_DATA=(SERVICE_NAME=HUBPDB)))"
    )
    assert (database["HOST"], database["PORT"]) == ("", "")
    plain = storage.StorageSettings("oracle", "oracle://db.example.com:1521/HUBPDB", "hub").database("pw")
    assert (plain["NAME"], plain["HOST"], plain["PORT"]) == ("HUBPDB", "db.example.com", "1521")


def test_mysql_tls_options_become_the_drivers_ssl_settings():
    tls = {"ssl_mode": "VERIFY_IDENTITY", "ssl_ca": "/etc/hub/db-ca.pem"}
    stored = storage.StorageSettings("mysql", "mysql://db.example.com:3306/hub", "hub", tls=tls)
    stored.validate()
    options = stored.database("pw")["OPTIONS"]
    assert (options["ssl_mode"], options["ssl"]) == ("VERIFY_IDENTITY", {"ca": "/etc/hub/db-ca.pem"})


def test_sql_server_without_microsofts_odbc_driver_is_named(monkeypatch):
    import pyodbc

    monkeypatch.setattr(pyodbc, "drivers", lambda: ["PostgreSQL Unicode"])
    assert "ODBC Driver 18 for SQL Server" in storage.driver_problem("mssql")
    monkeypatch.setattr(pyodbc, "drivers", lambda: ["ODBC Driver 18 for SQL Server"])
    assert storage.driver_problem("mssql") is None
    assert storage.driver_problem("oracle") is None  # oracledb is installed with Hub


@pytest.mark.parametrize(
    "stored",
    [
        storage.StorageSettings("oracle", "oracle://db.example.com:1521/HUBPDB", "hub"),
        storage.StorageSettings("mssql", "mssql://db.example.com:1433/hub", "hub"),
    ],
    ids=["oracle", "mssql"],
)
def test_the_transfer_prepares_a_row_for_the_backend_as_the_orm_would(stored):
    target = wrapper(stored.database("pw"))
    fields = [field for field in ArtifactPair._meta.concrete_fields if not getattr(field, "generated", False)]
    now = timezone.now()
    values = {
        "id": 7,
        "integration_id": 3,
        "a_artifact_id": "42",
        "a_summary": "",
        "a_snapshot": '{"title": "T"}',  # JSON columns travel as the text the source stores
        "created": now,
        "last_synced_at": None,
    }
    for field in fields:
        if field.attname not in values:
            continue
        prepared = transfer._parameter_converter(field, target)(values[field.attname])
        if isinstance(field, models.JSONField):
            assert prepared == values[field.attname]
        else:
            expected = field.get_db_prep_value(values[field.attname], connection=target, prepared=False)
            assert prepared == expected, field.attname
