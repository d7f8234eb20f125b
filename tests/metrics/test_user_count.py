"""User counting for the license (Metrics → User Count): the counting rules on people with known
answers, the periods, the User Count Report's layout and contents, and the configuration screen."""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from datetime import date, datetime, time

import pytest
from django.utils import timezone

from integrations.models import Integration
from metrics import usercount
from metrics.models import PersonOverride, PersonSighting, RepositoryPerson, UserCountSettings

TODAY = date(2026, 6, 15)
pytestmark = pytest.mark.django_db


def sighting(repository, person, integration, month, field="owner", last_seen=None, shared=None):
    person_row, _ = RepositoryPerson.objects.get_or_create(
        repository_id=repository.pk,
        person_id=person,
        defaults={"username": person, "email": f"{person}@example.com", "person_uid": shared},
    )
    row = PersonSighting.objects.create(
        month=month,
        repository_id=repository.pk,
        person_id=person,
        integration_id=integration.pk,
        project="DEMO",
        field=field,
        username=person,
    )
    seen = last_seen or month.replace(day=20)
    PersonSighting.objects.filter(pk=row.pk).update(
        last_seen=timezone.make_aware(datetime.combine(seen, time(12)))
    )
    return person_row


@pytest.fixture
def people(integration):
    """Repositories A and B; integrations ``itsm`` (Involves ITSM), ``normal`` and ``test``
    (Non-production); the user types: B's reporter field Requester, A's watcher Excluded."""
    normal = integration
    ra, rb = normal.collection_a.repository, normal.collection_b.repository
    itsm = Integration.objects.create(
        name="Help desk", collection_a=normal.collection_b, collection_b=normal.collection_a
    )
    test = Integration.objects.create(
        name="Staging", collection_a=normal.collection_a, collection_b=normal.collection_b
    )
    config = UserCountSettings.get()
    config.start_date = date(2024, 3, 10)  # counting from 2026-03-10
    config.integrations = {str(itsm.pk): {"itsm": True}, str(test.pk): {"non_production": True}}
    config.user_types = {f"{rb.pk}:reporter": "requester", f"{ra.pk}:watcher": "excluded"}
    config.save()
    shared = uuid.uuid4()
    p = {
        "alice-a": sighting(ra, "alice", normal, date(2026, 4, 1), shared=shared),
        "alice-b": sighting(rb, "alice.b", normal, date(2026, 4, 1), field="assignee", shared=shared),
        "bob": sighting(ra, "bob", normal, date(2026, 3, 1), last_seen=date(2026, 3, 5)),  # before 03-10
        "carol": sighting(rb, "carol", test, date(2026, 6, 1)),  # non-production
        "erin": sighting(rb, "erin", itsm, date(2026, 5, 1), field="reporter"),  # requester in ITSM
        "dave": sighting(rb, "dave", normal, date(2026, 5, 1), field="reporter"),  # requester elsewhere
        "frank": sighting(ra, "frank", normal, date(2026, 5, 1), field="watcher"),  # excluded user
        "gina-a": sighting(ra, "gina", normal, date(2026, 5, 1)),
        "gina-b": sighting(rb, "g.smith", normal, date(2026, 5, 1)),
        "hank": sighting(ra, "hank", normal, date(2025, 8, 1)),  # only in the last 12 months
    }
    PersonOverride.objects.create(
        repository_id=ra.pk,
        person_uid=p["gina-a"].uid,
        other_repository_id=rb.pk,
        other_person_uid=p["gina-b"].uid,
    )
    return p


def test_the_counts_follow_the_exclusions_the_reconciliation_and_the_overrides(people):
    result = usercount.figures(TODAY, with_raw=True)
    current, rolling = result.current, result.rolling
    assert (current.start, rolling.start) == (date(2026, 3, 10), date(2025, 6, 15))
    assert len(current.raw) == 8  # bob was seen before the renewal date, hank before that
    assert sorted(p.person_id for p in current.counted) == ["alice", "alice.b", "dave", "g.smith", "gina"]
    assert current.users == 3  # alice (reconciled), gina (override), dave
    assert [p.person_id for p in current.unmatched] == ["dave"]
    assert (len(rolling.raw), len(rolling.counted), rolling.users, len(rolling.unmatched)) == (10, 7, 5, 3)
    monthly = dict(result.monthly)
    assert len(result.monthly) == 12 and result.monthly[-1][0] == "2026-06"
    assert (
        monthly["2025-08"],
        monthly["2026-03"],
        monthly["2026-04"],
        monthly["2026-05"],
        monthly["2026-06"],
    ) == (
        1,
        1,
        1,
        2,
        0,
    )


@pytest.mark.parametrize(
    ("anchor", "today", "start"),
    [
        (date(2024, 3, 10), date(2026, 6, 15), date(2026, 3, 10)),
        (date(2024, 9, 1), date(2026, 6, 15), date(2025, 9, 1)),
        (date(2024, 6, 15), date(2026, 6, 15), date(2026, 6, 15)),
        (date(2024, 2, 29), date(2027, 3, 1), date(2027, 2, 28)),
    ],
)
def test_the_current_count_starts_at_the_most_recent_anniversary_of_the_start_date(anchor, today, start):
    assert usercount.current_start(UserCountSettings(start_date=anchor), today) == start


def test_without_a_start_date_the_license_creation_date_is_the_renewal_date(licensed):
    from hub import licensing

    created = licensing.current().license.created
    start = usercount.current_start(UserCountSettings.get(), TODAY)
    assert (start.month, start.day) == (created.month, created.day) or created.day == 29
    assert start <= TODAY


def read_zip(content: bytes) -> dict[str, list[list[str]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {
        name: (
            json.loads(archive.read(name))
            if name.endswith(".json")
            else list(csv.reader(io.StringIO(archive.read(name).decode())))
        )
        for name in archive.namelist()
    }


def test_the_user_count_report_has_the_documented_layout_and_the_pipeline_in_it(people):
    files = read_zip(usercount.report_zip(TODAY))
    stages = [
        "1-raw-data.csv",
        "2-deduplicated-based-on-user-fields.csv",
        "3-reconciled-based-on-settings.csv",
        "4-unmatched-based-on-settings.csv",
    ]
    assert set(files) == {
        *(
            f"{folder}/{stage}"
            for folder in ("current-usage-breakdown", "12-month-usage-breakdown")
            for stage in stages
        ),
        "final-counts.csv",
        "person-reconciliation-template.csv",
        "user-count-settings.json",
    }
    raw = files["current-usage-breakdown/1-raw-data.csv"]
    assert raw[0][:3] == ["Repository ID", "Repository", "Tasktop Generated Repository Person Identifier"]
    erin = next(row for row in raw if row[4] == "erin")
    assert (erin[11], erin[14], erin[15]) == (
        "Requester",
        "no",
        "Requester in an integration that involves ITSM",
    )
    assert erin[2] == str(people["erin"].uid)
    assert len(files["current-usage-breakdown/2-deduplicated-based-on-user-fields.csv"]) == 1 + 5
    assert len(files["current-usage-breakdown/3-reconciled-based-on-settings.csv"]) == 1 + 3
    assert [r[4] for r in files["current-usage-breakdown/4-unmatched-based-on-settings.csv"][1:]] == ["dave"]
    assert files["final-counts.csv"] == [
        usercount.FINAL_COLUMNS,
        ["Current User Count", "2026-03-10", "2026-06-15", "8", "8", "5", "3", "1"],
        ["Rolling 12 Month Count", "2025-06-15", "2026-06-15", "10", "10", "7", "5", "3"],
    ]
    assert files["person-reconciliation-template.csv"] == [usercount.TEMPLATE_COLUMNS]
    assert files["user-count-settings.json"]["startDate"] == "2024-03-10"
    assert len(files["user-count-settings.json"]["personReconciliationOverrides"]) == 1


def test_bulk_edit_takes_the_templates_rows_and_names_each_bad_line(people, integration):
    ra, rb = integration.collection_a.repository.pk, integration.collection_b.repository.pk
    bob, dave, nobody = people["bob"].uid, people["dave"].uid, uuid.uuid4()
    rows, errors = usercount.parse_bulk(
        f"{ra}\t{bob}\t{rb}\t{dave}\n\n{ra},{bob},{ra},{nobody}\n{ra}\tnot-a-uuid\t{rb}\t{dave}\n1\t2\n"
    )
    assert rows == [(ra, str(bob), rb, str(dave))]
    assert errors == [
        f"Line 3: no person {nobody} in repository {ra}.",
        "Line 4: repository ids are numbers and person identifiers UUIDs.",
        "Line 5: expected 4 values, found 2.",
    ]
    assert usercount.add_overrides(rows) == 1 and usercount.add_overrides(rows) == 0


def test_viewers_see_the_counts_and_the_configuration_but_change_nothing(viewer_client, people):
    page = viewer_client.get("/metrics/user-count/")
    assert page.status_code == 200
    assert b"Current User Count" in page.content and b"Download Report" not in page.content
    assert viewer_client.get("/metrics/user-count/configuration/?tab=user-types").status_code == 200
    assert viewer_client.post("/metrics/user-count/report/").status_code == 403
    answer = viewer_client.post("/metrics/user-count/configuration/", {"tab": "start-date", "start_date": ""})
    assert answer.status_code == 403
    assert UserCountSettings.get().start_date == date(2024, 3, 10)


def test_administrators_configure_each_tab_and_each_save_is_in_configuration_history(
    admin_client, people, integration
):
    from hub.models import ConfigurationChange

    url = "/metrics/user-count/configuration/"
    itsm = Integration.objects.get(name="Help desk")
    types = admin_client.get(f"{url}?tab=user-types").content.decode()
    assert "Not counted in Help desk (Involves ITSM); counted in its other integrations." in types
    page = admin_client.get(f"{url}?tab=integrations")
    assert b"Result 1 - 3 of 3" in page.content
    admin_client.post(url, {"tab": "integrations", "shown": [itsm.pk], f"non_production_{itsm.pk}": "on"})
    assert UserCountSettings.get().integrations[str(itsm.pk)] == {"non_production": True, "itsm": False}

    rb = integration.collection_b.repository.pk
    types = admin_client.get(f"{url}?tab=user-types").content.decode()
    # Help desk is not ITSM any more
    assert "Counted: none of its integrations is marked as involving ITSM." in types
    admin_client.post(
        url, {"tab": "user-types", "shown": [f"{rb}:reporter"], f"type_{rb}:reporter": "excluded"}
    )
    assert UserCountSettings.get().user_types[f"{rb}:reporter"] == "excluded"

    ra = integration.collection_a.repository.pk
    answer = admin_client.post(
        url,
        {
            "tab": "overrides",
            "action": "bulk",
            "rows": f"{ra}\t{people['bob'].uid}\t{rb}\t{people['dave'].uid}",
        },
    )
    assert answer.status_code == 302 and PersonOverride.objects.count() == 2
    bad = admin_client.post(url, {"tab": "overrides", "action": "bulk", "rows": "1\t2"})
    assert bad.status_code == 200 and b"expected 4 values" in bad.content

    admin_client.post(url, {"tab": "start-date", "start_date": "2025-01-31"})
    assert UserCountSettings.get().start_date == date(2025, 1, 31)
    future = admin_client.post(url, {"tab": "start-date", "start_date": "2999-01-01"})
    assert b"cannot be in the future" in future.content

    changes = ConfigurationChange.objects.filter(element_type="User Count Configuration")
    assert list(changes.order_by("pk").values_list("element_name", flat=True)) == [
        "Integration Exclusions",
        "User Type Exclusions",
        "Person Reconciliation Overrides",
        "Start Date",
    ]

    report = admin_client.post("/metrics/user-count/report/")
    assert report["Content-Type"] == "application/zip"
    assert "final-counts.csv" in zipfile.ZipFile(io.BytesIO(report.content)).namelist()


def test_user_type_exclusions_name_the_repository_field_and_the_model_fields_label(
    admin_client, people, integration
):
    """The tab lists the person fields of the repositories as their mappings name them, with the
    model field's label; the model field's id is only the key the sightings are stored under."""
    from integrations.models import FieldMapping, ModelField

    rb = integration.collection_b.repository
    ModelField.objects.create(
        model=integration.collection_b.model, key="reporter", label="Reported by", type="person"
    )
    FieldMapping.objects.create(
        collection=integration.collection_b,
        repository_fields=["author"],
        repository_field_types={"author": "person"},
        model_fields=["reporter"],
        model_field_types={"reporter": "person"},
        direction="to_model",
    )
    PersonSighting.objects.filter(repository_id=rb.pk, field="reporter").update(
        collection_id=integration.collection_b.pk
    )
    page = admin_client.get("/metrics/user-count/configuration/?tab=user-types").content.decode()
    rows = {
        row.split('data-testid="person-field">')[1].split("</td>")[0]: row
        for row in page.split("<tr>")
        if 'data-testid="person-field"' in row
    }
    assert "author" in rows and "reporter" not in rows
    assert "<td>Reported by</td>" in rows["author"]
    assert f'name="type_{rb.pk}:reporter"' in rows["author"]  # saved under the sightings' key
    assert '<option value="requester" selected>Requester</option>' in rows["author"]
    # a field whose sightings name no mapped collection keeps the name Hub has for it
    assert "owner" in rows and "watcher" in rows


def test_the_pages_warn_and_offer_their_buttons_and_tabs(admin_client, people):
    page = admin_client.get("/metrics/user-count/").content.decode()
    assert 'data-testid="user-count-warning"' in page and "vendor contact" in page
    assert 'data-testid="user-count-configuration"' in page
    configuration = admin_client.get("/metrics/user-count/configuration/").content.decode()
    assert "Back to Metrics" in configuration and 'data-testid="cancel"' in configuration
    assert "View and configure your user count settings." in configuration
    assert "also set their person field's user type to <em>Requester</em>" in configuration
    for tab in (
        "Integration Exclusions",
        "User Type Exclusions",
        "Person Reconciliation Overrides",
        "Start Date",
    ):
        assert tab in configuration


def test_an_administrator_adds_one_override_across_repositories_only(admin_client, people):
    url = "/metrics/user-count/configuration/"
    before = PersonOverride.objects.count()
    same = admin_client.post(
        url, {"tab": "overrides", "action": "add", "person": people["bob"].uid, "other": people["hank"].uid}
    )
    assert b"another repository" in same.content and PersonOverride.objects.count() == before
    added = admin_client.post(
        url, {"tab": "overrides", "action": "add", "person": people["bob"].uid, "other": people["dave"].uid}
    )
    assert added.status_code == 302 and PersonOverride.objects.count() > before


def test_a_long_list_pages_by_twenty_with_previous_and_next_and_a_save_keeps_the_other_pages(
    admin_client, integration
):
    """Result x - y of n, Previous / Next as links only where there is a page to go to; a save on
    page 2 changes the rows page 2 showed and leaves page 1's exclusions as they were."""
    for n in range(21):
        Integration.objects.create(
            name=f"Team {n:02}", collection_a=integration.collection_a, collection_b=integration.collection_b
        )
    first_of_all = Integration.objects.order_by("name", "pk").first()
    config = UserCountSettings.get()
    config.integrations = {str(first_of_all.pk): {"non_production": True}}
    config.save()
    url = "/metrics/user-count/configuration/"

    first = admin_client.get(f"{url}?tab=integrations").content.decode()
    result = first.split('data-testid="result">')[1].split("</p>")[0]
    assert "Result 1 - 20 of 22" in result
    assert '<span class="text-muted">Previous</span>' in result
    assert '<a href="?tab=integrations&amp;page=2">Next</a>' in result
    assert first.count('name="shown"') == 20 and "Team 19" not in first

    second = admin_client.get(f"{url}?tab=integrations&page=2").content.decode()
    result = second.split('data-testid="result">')[1].split("</p>")[0]
    assert "Result 21 - 22 of 22" in result
    assert '<a href="?tab=integrations&amp;page=1">Previous</a>' in result
    assert '<span class="text-muted">Next</span>' in result
    on_page_two = [int(part.split('"')[0]) for part in second.split('name="shown" value="')[1:]]
    assert len(on_page_two) == 2 and first_of_all.pk not in on_page_two

    last = on_page_two[-1]
    admin_client.post(url, {"tab": "integrations", "page": "2", "shown": on_page_two, f"itsm_{last}": "on"})
    saved = UserCountSettings.get().integrations
    assert saved[str(last)] == {"non_production": False, "itsm": True}
    assert saved[str(first_of_all.pk)] == {"non_production": True}  # page 1 untouched
