"""Help → System Information and the Support and Usage Report: its name, its documented folders and
what they say, that it is streamed, that only administrators get it, and that no secret is in it."""

from __future__ import annotations

import csv
import io
import json
import os
import time
import zipfile
from datetime import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from activity.blockers import raise_blocker
from hub import support_report
from metrics.models import DailyCount, PersonSighting, RepositoryPerson
from tests.activity import factories as ledger
from tests.integrations.factories import *  # noqa: F403

URL = "/help/support-report/"


def download(client, days: str = "14") -> tuple[object, zipfile.ZipFile]:
    response = client.post(URL, {"days": days})
    assert response.status_code == 200, response.content[:300]
    assert response.streaming
    data = b"".join(response.streaming_content)
    return response, zipfile.ZipFile(io.BytesIO(data))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "hub-state-20261201-142530.zip"),
        ("Staging EU", "hub-state-Staging-EU-20261201-142530.zip"),
        ("prod/eu: #1", "hub-state-prodeu-1-20261201-142530.zip"),
        ("x" * 100, f"hub-state-{'x' * 80}-20261201-142530.zip"),
    ],
)
def test_the_file_name_carries_the_cleaned_environment_name(name, expected):
    assert support_report.file_name(name, datetime(2026, 12, 1, 14, 25, 30)) == expected


@pytest.mark.parametrize("value", ["abc", "0", "400", "1.5"])
def test_days_of_logs_outside_the_range_are_refused_with_the_reason(admin_client, value):
    response = admin_client.post(URL, {"days": value})
    assert response.status_code == 400
    assert b"days of logs" in response.content


def test_the_help_page_shows_system_information_and_the_download_form(admin_client):
    page = admin_client.get(reverse("help")).content.decode()
    assert 'data-testid="system-information"' in page
    assert "Operational database" in page and "Workers seen in the last minute" in page
    assert 'name="days"' in page and 'value="14"' in page


def test_system_information_shows_what_runs(admin_client, db):
    """Each line of System Information with its value: version, edition, license, the operational
    database, the broker, the workers that beat in the last minute (not one that beat two minutes
    ago) and the web process's uptime."""
    import re
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from hub import licensing, support_contents
    from integrations.engine import heartbeat

    licensing.ensure_evaluation_license()
    heartbeat.beat("h:7:aa", name="hub-worker@h")
    heartbeat.beat("h:8:bb", now=timezone.now() - timedelta(minutes=2), name="old-worker@h")
    page = admin_client.get(reverse("help")).content.decode()
    cells = dict(re.findall(r'<th scope="row">([^<]+)</th><td[^>]*>(.*?)</td>', page))
    assert cells["Version"] == support_contents.version() != ""
    assert cells["Edition"] == str(licensing.current().license.edition)
    assert "expires" in cells["License"]
    assert cells["Operational database"] == connection.vendor
    assert cells["Broker"] == support_contents.broker_kind() != ""
    assert cells["Workers seen in the last minute"] == "1: hub-worker@h"
    assert re.fullmatch(r"\d+ s", cells["Web process up for"])


def test_viewers_see_system_information_but_cannot_download(viewer_client):
    page = viewer_client.get(reverse("help")).content.decode()
    assert 'data-testid="system-information"' in page
    assert "support-report-form" not in page
    assert viewer_client.post(URL, {"days": "14"}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.post(URL, {"days": "14"}).status_code in (302, 403)
    assert client.get(reverse("help")).status_code == 302


@pytest.fixture
def configured(integration, administrator):
    """The factories' configuration plus a problem, a failure, counters and a person seen."""
    raise_blocker("test:mapping", "CCRRTT-17002E", "The mapping of Alpha defects is invalid.")
    ledger.activities(2, ledger.Status.FAILED, integration_id=integration.pk)
    repository = integration.collection_a.repository
    DailyCount.objects.create(
        day="2026-11-30", integration_id=integration.pk, repository_id=repository.pk, created=3, updated=4
    )
    PersonSighting.objects.create(
        month="2026-11-01",
        repository_id=repository.pk,
        person_id="17",
        username="grace",
        email="grace@example.com",
        integration_id=integration.pk,
        collection_id=integration.collection_a.pk,
        project="DEMO",
        field="owner",
        count=5,
    )
    RepositoryPerson.objects.create(repository_id=repository.pk, person_id="17", username="grace")
    return integration


def test_the_zip_has_the_documented_folders(admin_client, configured):
    (settings.HUB.logs_dir / "hub.log").write_text("INFO started\n")
    (settings.HUB.logs_dir / "migration-event-trace.log").write_text("Migration run started (forwards).\n")
    response, archive = download(admin_client)
    assert response["Content-Disposition"].startswith('attachment; filename="hub-state-')
    names = set(archive.namelist())
    assert {
        "activity/issues.json",
        "configuration/configuration.json",
        "configuration/hub-details.json",
        "logs/hub.log",
        "logs/thread-dump.log",
        "logs/migration-event-trace.log",
        "mappings/Alpha defects.txt",
        "mappings/Beta defects.txt",
        "metrics/metrics.json",
        "metrics/change-detection-metrics.json",
        "repository metadata/Alpha.json",
        "repository metadata/Beta.json",
        "schemas/Alpha defects.json",
        "usage/usage-report.csv",
        "usage/overview.json",
    } <= names


def test_each_member_says_what_the_documentation_promises(admin_client, configured):
    _, archive = download(admin_client)
    issues = json.loads(archive.read("activity/issues.json"))
    assert [b["code"] for b in issues["blockers"]] == ["CCRRTT-17002E"]
    assert [a["code"] for a in issues["failed_activities"]] == ["CCRRTT-1002E"] * 2

    configuration = json.loads(archive.read("configuration/configuration.json"))
    assert [r["label"] for r in configuration["repository"]] == ["Alpha", "Beta"]
    assert configuration["integration"][0]["routes"][0]["project_a"] == "DEMO"

    details = json.loads(archive.read("configuration/hub-details.json"))
    assert details["product"] == "Hub" and details["database"] in ("sqlite", "postgresql", "mysql")

    mapping = archive.read("mappings/Alpha defects.txt").decode()
    assert "summary -> title [copy]" in mapping and "Model to collection:" in mapping

    metrics = json.loads(archive.read("metrics/metrics.json"))
    assert metrics["by_integration"] == [{"integration_id": configured.pk, "created": 3, "updated": 4}]

    detection = json.loads(archive.read("metrics/change-detection-metrics.json"))
    assert detection["integrations"][0]["waiting_activities"] == 2

    metadata = json.loads(archive.read("repository metadata/Alpha.json"))
    assert (metadata["connector"], metadata["default_page_size"]) == ("local", 1000)

    schema = json.loads(archive.read("schemas/Alpha defects.json"))
    assert {"id": "summary", "type": "string"} in schema["repository_fields"]
    assert [f["key"] for f in schema["model_fields"]] == ["title", "priority", "due"]

    assert "MainThread" in archive.read("logs/thread-dump.log").decode()


def test_the_usage_report_in_the_zip_has_no_personal_details(admin_client, configured):
    _, archive = download(admin_client)
    text = archive.read("usage/usage-report.csv").decode()
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:2] == ["Generated Person Identifier", "Generated Repository Person Identifier"]
    assert "Email" not in header
    person = RepositoryPerson.objects.get()
    assert rows == [["", str(person.uid), "local", "Alpha", "Alpha ↔ Beta", "Alpha defects / DEMO", "",
                     "owner", "5", "2026-11"]]  # fmt: skip
    assert "grace" not in text and b"grace" not in b"".join(archive.read(n) for n in archive.namelist())
    overview = json.loads(archive.read("usage/overview.json"))
    assert overview["integrations"] == 1
    assert overview["person_ids_by_integration"] == [{"integration_id": configured.pk, "person_ids": 1}]


def test_an_integration_without_associations_has_no_last_processed_time(configured):
    """overview.json: an integration that never paired an artifact has no last processed time
    (null, as the documentation's note says); one that did has the time."""
    from datetime import UTC

    from hub import support_contents
    from integrations.models import Integration

    processed = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    Integration.objects.create(
        name="Paired before",
        collection_a=configured.collection_a,
        collection_b=configured.collection_b,
        last_artifact_processed=processed,
    )
    overview = json.loads(support_report._json(support_contents.usage_overview()))  # as zipped
    details = {d["name"]: d for d in overview["integration_details"]}
    assert details[configured.name]["last_processed"] is None
    assert (
        datetime.fromisoformat(details["Paired before"]["last_processed"].replace("Z", "+00:00")) == processed
    )


def test_only_the_days_of_logs_asked_for_are_included(admin_client, db):
    logs = settings.HUB.logs_dir
    old, recent = logs / "hub.log.2026-11-01", logs / "hub.log.2026-11-30"
    old.write_text("old\n")
    recent.write_text("recent\n")
    os.utime(old, (time.time() - 20 * 86400,) * 2)
    _, archive = download(admin_client, "7")
    assert "logs/hub.log.2026-11-30" in archive.namelist()
    assert "logs/hub.log.2026-11-01" not in archive.namelist()


def test_crash_reports_of_workers_are_included_and_empty_ones_left_out(admin_client, db):
    directory = support_report.crash_reports_dir()
    directory.mkdir(exist_ok=True)
    (directory / "worker-41.log").write_text("Fatal Python error: Segmentation fault\n")
    (directory / "worker-42.log").write_text("")
    _, archive = download(admin_client)
    assert archive.read("crash-reports/worker-41.log").startswith(b"Fatal Python error")
    assert "crash-reports/worker-42.log" not in archive.namelist()


def test_a_large_log_is_streamed_in_bounded_chunks(admin_client, db):
    """20 MB of log leave the view in pieces of about one megabyte, never as one body."""
    big = settings.HUB.logs_dir / "hub.log.big"
    with big.open("wb") as handle:
        for _ in range(20):
            handle.write(os.urandom(512 * 1024).hex().encode()[: 1024 * 1024])
    response = admin_client.post(URL, {"days": "14"})
    sizes = [len(chunk) for chunk in response.streaming_content]
    assert len(sizes) > 20
    assert max(sizes) < 3 * support_report.CHUNK
    assert sum(sizes) > 10 * 1024 * 1024


def test_labels_that_clean_to_the_same_name_both_get_a_file():
    members = [support_report.Member("schemas/a_b.json", data) for data in (b"1", b"2")]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(support_report.stream(iter(members)))))
    assert archive.namelist() == ["schemas/a_b.json", "schemas/a_b (2).json"]


def test_no_secret_is_in_the_zip(admin_client, configured):
    """Canary secrets on every element that holds one; none may appear in any member."""
    from extensions.models import KeyValuePair, KeyValueStore
    from integrations import services
    from integrations.models import GatewayCollection, Repository, SqlCollection
    from settings_app.models import SmtpSettings

    canaries = [f"canary-{what}-5f1e" for what in ("pw", "token", "proxy", "smtp", "kv", "sql", "hint")]
    repository = Repository.objects.get(label="Alpha")
    repository.password, repository.token, repository.proxy_password = canaries[:3]
    repository.event_hint_secret = canaries[6]
    repository.save()
    SmtpSettings.objects.create(host="mail.example.com", username="hub", password=canaries[3])
    store = KeyValueStore.objects.create(name="Lookups", kind=KeyValueStore.Kind.CONFIDENTIAL)
    KeyValuePair.objects.create(store=store, key="api", key_digest="d", sealed=canaries[4])
    SqlCollection.objects.create(
        name="Reports", database_url="postgres://hub@db/r", password=canaries[5], table="t"
    )
    gateway = GatewayCollection.objects.create(name="Inbound", model=configured.collection_a.model)
    canaries.append(services.new_gateway_token(gateway))
    gateway.save()

    _, archive = download(admin_client)
    found = [
        (canary, name)
        for name in archive.namelist()
        for canary in canaries
        if canary.encode() in archive.read(name)
    ]
    assert found == []
    configuration = json.loads(archive.read("configuration/configuration.json"))
    assert configuration["notifications"]["login"] == "stored"
    assert configuration["key-value store"][0]["keys"] == ["api"]
