"""Jira Data Center reads a batch of issues through one ``key in (…)`` search with ``fields=*all``
and the marker property, not one ``GET issue/{key}`` each; a deleted key is left out
(``validateQuery=warn``), and what it reads equals the one-by-one reads. Cloud keeps its per-issue
reads."""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.errors import ValuesNotAccepted
from tests.connectors.cloud_peers import jira_settings
from tests.fakes.jira import JiraFake


@pytest.fixture(params=["cloud", "dc"])
def jira(request, db):
    with JiraFake(flavor=request.param) as fake:
        fake.add_project("BAT", "Batch")
        with registry.connect(jira_settings(fake)) as connector:
            yield request.param, fake, connector


def test_a_batch_read_is_one_search_on_data_center_and_matches_single_reads(jira):
    flavor, fake, connector = jira
    made = [
        connector.create_artifact("BAT", "10001", {"summary": f"Issue {n}"}, marker=f"m{n}") for n in range(5)
    ]
    connector.add_comment(made[0].id, "First comment")
    fake.issues[made[3].id].deleted = True
    keys = [m.id for m in made]
    fake.reset_requests()
    read = connector.read_artifacts(keys)
    issue_gets = [s for s in fake.requests if "/issue/" in s.path and s.method == "GET"]
    searches = [s for s in fake.requests if s.path.endswith("/search")]
    assert sorted(read) == sorted(k for k in keys if k != made[3].id)
    if flavor == "dc":
        assert (len(searches), len(issue_gets)) == (1, 0)
    else:
        assert len(issue_gets) == len(keys)
    for key, artifact in read.items():
        single = connector.read_artifact(key)
        assert (artifact.fields, artifact.marker, artifact.revision) == (
            single.fields,
            single.marker,
            single.revision,
        )
        assert [c.body for c in artifact.comments] == [c.body for c in single.comments]
    assert read[made[0].id].marker == "m0"
    assert [c.body for c in read[made[0].id].comments] == ["First comment"]


def test_data_center_refuses_an_unknown_key_unless_the_query_only_warns(db):
    with JiraFake(flavor="dc") as fake:
        fake.add_project("BAT", "Batch")
        with registry.connect(jira_settings(fake)) as connector:
            made = connector.create_artifact("BAT", "10001", {"summary": "Only one"})
            body = {"jql": f"key in ({made.id}, BAT-999)", "fields": ["*all"]}
            with pytest.raises(ValuesNotAccepted, match="BAT-999"):
                connector.api.call("POST", "search", json=body)
            warned = connector.api.call("POST", "search", json={**body, "validateQuery": "warn"})
            assert [i["key"] for i in warned.json()["issues"]] == [made.id]
