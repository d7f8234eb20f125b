"""Storage Settings for the two kinds no server here can run, Oracle and SQL Server: what can be
checked without one. Their settings are validated and turned into the Django ``DATABASES`` entry
their backend reads (TLS as TCPS or ODBC options), their drivers are checked, their backends load,
and the transfer prepares a row for them as the ORM would. Connecting, migrating and copying into
them is not tested (docs/operations.md, "Oracle and SQL Server"). Also MySQL's TLS options, which
the transfer tests against the real MariaDB do not set."""

import pytest
from django.db import models
from django.db.utils import load_backend
from django.urls import reverse
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


def test_oracle_is_refused_because_it_cannot_hold_the_stored_search_columns():
    """Oracle has virtual generated columns only; the activity and pair search columns are stored.
    Its migrations would fail half-way through a transfer: Save refuses it first."""
    oracle = storage.StorageSettings("oracle", "oracle://db.example.com:1521/HUBPDB", "hub")
    assert transfer.unsupported_columns(oracle.database("")) == [
        "activity_artifactactivity.search_text",
        "activity_artifactpair.search_text",
    ]
    mssql = storage.StorageSettings("mssql", "mssql://db.example.com:1433/hub", "hub")
    assert transfer.unsupported_columns(mssql.database("")) == []


@pytest.mark.django_db
def test_save_refuses_oracle_with_30010E_naming_the_columns(admin_client, master_password):
    data = {
        "kind": "oracle",
        "location": "oracle://db.example.com:1521/HUBPDB",
        "username": "hub",
        "password": "Oracle-password-never-shown",
        "backoff_value": "1",
        "backoff_unit": "hours",
    }
    response = admin_client.post(reverse("settings-storage-save"), data)
    page = response.content.decode()
    assert response.status_code == 400 and "CCRRTT-30010E" in page
    assert "activity_artifactpair.search_text" in page and 'name="backed_up"' not in page


class RecordingCursor:
    """SQL Server's cursor as far as the copy uses it (no server runs here): what it was asked."""

    def __init__(self, statements: list):
        self.statements = statements

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=None):
        self.statements.append(sql)

    def executemany(self, sql, rows):
        self.statements.append((sql, len(rows)))


def test_the_copy_into_sql_server_allows_explicit_ids_for_the_batch(monkeypatch):
    target = wrapper(storage.StorageSettings("mssql", "mssql://db.example.com:1433/hub", "hub").database(""))
    statements: list = []
    monkeypatch.setattr(target, "cursor", lambda: RecordingCursor(statements))
    fields = [field for field in ArtifactPair._meta.concrete_fields if not getattr(field, "generated", False)]
    def value(field):
        if isinstance(field, models.DateTimeField):
            return timezone.now()
        return None if field.null else 1 if field.primary_key else ""

    row = tuple(value(field) for field in fields)

    transfer._copy_writer(ArtifactPair, fields, target)([row, row])

    assert statements[0] == "SET IDENTITY_INSERT [activity_artifactpair] ON"
    insert, rows = statements[1]
    assert insert.startswith("INSERT INTO [activity_artifactpair] ([id], ") and rows == 2
    assert statements[2] == "SET IDENTITY_INSERT [activity_artifactpair] OFF"


class AnsweringCursor(RecordingCursor):
    """… and what it answers a query with."""

    def __init__(self, statements: list, row: tuple):
        super().__init__(statements)
        self.row = row

    def fetchone(self):
        return self.row


@pytest.mark.parametrize(
    ("stored", "temporary", "encrypted"),
    [
        (
            storage.StorageSettings("oracle", "oracle://db.example.com:1521/HUBPDB", "hub"),
            [
                'CREATE GLOBAL TEMPORARY TABLE "HUB_PROBE_T" (id NUMBER(19)) ON COMMIT PRESERVE ROWS',
                'INSERT INTO "HUB_PROBE_T" (id) VALUES (1)',
                'TRUNCATE TABLE "HUB_PROBE_T"',
                'DROP TABLE "HUB_PROBE_T"',
            ],
            ("tcps",),
        ),
        (
            storage.StorageSettings("mssql", "mssql://db.example.com:1433/hub", "hub"),
            [
                "CREATE TABLE [#hub_probe_t] (id BIGINT)",
                "INSERT INTO [#hub_probe_t] (id) VALUES (1)",
                "DROP TABLE [#hub_probe_t]",
            ],
            ("TRUE",),
        ),
    ],
    ids=["oracle", "mssql"],
)
def test_test_connection_spells_the_temporary_table_and_the_tls_query_of_each_kind(
    monkeypatch, stored, temporary, encrypted
):
    """The SQL Test Connection sends these two kinds, as far as it is Hub's own (the other steps go
    through Django's schema editor of their backend). Never run against a server here."""
    target = wrapper(stored.database(""))
    statements: list = []
    monkeypatch.setattr(target, "cursor", lambda: AnsweringCursor(statements, encrypted))

    transfer._temporary_table(target, "hub_probe_t")
    assert statements == temporary

    statements.clear()
    assert transfer.session_tls(target) == encrypted[0]
    [query] = statements
    assert ("NETWORK_PROTOCOL" if stored.kind == "oracle" else "encrypt_option") in query
    # Both report only that the session is encrypted, so the check cannot see the protocol.
    assert transfer._check_tls(target, stored).startswith("encrypted")
