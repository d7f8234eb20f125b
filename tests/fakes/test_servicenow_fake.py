"""The ServiceNow fake kept honest: pysnow (a client nobody here wrote) creates, reads, updates,
searches, comments on (journal fields), attaches to and pages through incidents on it without an
error; and the fake's rules clients rarely meet (the Link header and X-Total-Count, journal entries
in sys_journal_field, the data policy of a resolved incident)."""

from __future__ import annotations

import httpx
import pysnow
import pytest
import requests

from tests.fakes.servicenow import ServiceNowFake


@pytest.fixture
def fake():
    with ServiceNowFake() as server:
        yield server


@pytest.fixture
def incidents(fake):
    client = pysnow.Client(
        host=fake.url.split("://")[1], user=fake.me.user_name, password=fake.me.password, use_ssl=False
    )
    yield client.resource(api_path="/table/incident")
    client.session.close()


def test_pysnow_creates_reads_and_updates_an_incident(incidents):
    made = incidents.create(payload={"short_description": "Printer on fire", "priority": "2"})
    sys_id = made["sys_id"]
    assert made["number"].startswith("INC") and made["sys_mod_count"] == "0"
    incidents.update(query={"sys_id": sys_id}, payload={"short_description": "Printer still on fire"})
    record = incidents.get(query={"sys_id": sys_id}).one()
    assert (record["short_description"], record["sys_mod_count"]) == ("Printer still on fire", "1")


def test_pysnow_writes_journal_entries_read_from_sys_journal_field(fake, incidents):
    sys_id = incidents.create(payload={"short_description": "Noisy"})["sys_id"]
    incidents.update(query={"sys_id": sys_id}, payload={"comments": "for the caller"})
    incidents.update(query={"sys_id": sys_id}, payload={"work_notes": "for the team"})
    client = pysnow.Client(
        host=fake.url.split("://")[1], user=fake.me.user_name, password=fake.me.password, use_ssl=False
    )
    journal = client.resource(api_path="/table/sys_journal_field")
    entries = journal.get(query=f"element_id={sys_id}^ORDERBYsys_created_on").all()
    assert [(e["element"], e["value"]) for e in entries] == [
        ("comments", "for the caller"),
        ("work_notes", "for the team"),
    ]


def test_pysnow_pages_through_incidents_and_the_link_header_says_where_next(fake, incidents):
    for n in range(25):
        fake.new_record("incident", short_description=f"Incident {n}")
    found, offset = [], 0
    while True:  # pysnow pages by limit and offset (it does not follow Link headers)
        page = list(incidents.get(query="ORDERBYnumber", limit=10, offset=offset).all())
        found += page
        offset += 10
        if len(page) < 10:
            break
    assert len(found) == 25 and len({r["sys_id"] for r in found}) == 25
    answer = httpx.get(
        f"{fake.url}/api/now/table/incident",
        params={"sysparm_limit": 10},
        auth=(fake.me.user_name, fake.me.password),
    )
    assert answer.headers["X-Total-Count"] == "25" and 'rel="next"' in answer.headers["Link"]


def test_pysnow_searches_and_attaches(fake, incidents, tmp_path):
    incidents.create(payload={"short_description": "Login fails"})
    incidents.create(payload={"short_description": "Slow page"})
    [found] = incidents.get(query="short_descriptionLIKElogin").all()
    path = tmp_path / "trace.log"
    path.write_bytes(b"log bytes")
    incidents.get(query={"sys_id": found["sys_id"]}).upload(file_path=str(path))
    [attachment] = fake.attachments.values()
    assert (attachment.file_name, attachment.content) == ("trace.log", b"log bytes")


def test_resolving_without_resolution_fields_breaks_the_data_policy(incidents):
    sys_id = incidents.create(payload={"short_description": "Done?"})["sys_id"]
    answer = incidents.update(query={"sys_id": sys_id}, payload={"state": "6"})  # pysnow reads lazily
    with pytest.raises(requests.HTTPError) as refused:
        answer.one()
    assert refused.value.response.status_code == 403
    assert "Data Policy Exception" in refused.value.response.text
