"""A collection's repository query narrows Jira change detection (JQL, a saved filter as
``filter = <id>``), and one Jira refuses stops the side with CCRRTT-1116E instead of reading more or
less than the query names. The Jira fake (``tests/fakes/jira.py``) answers 400 to a filter that does
not exist, as Jira does. The engine's behaviour here does not depend on the database (ONCE_IS_ENOUGH).
"""

from __future__ import annotations

import pytest

from activity.models import Blocker
from connectors import registry
from connectors.errors import QueryNotCreated
from connectors.local.models import LocalItem
from integrations import validation
from tests.connectors.cloud_peers import jira_settings
from tests.engine.cloud import JiraDataCenterTool, JiraTool, integration_with
from tests.engine.sync import run


@pytest.fixture(params=[JiraTool, JiraDataCenterTool], ids=["cloud", "dc"])
def tool(request):
    made = request.param()
    yield made
    made.close()


@pytest.fixture
def labelled(tool):
    """Three issues, the second labelled ``sync``; a saved filter that selects the label."""
    keys = [tool.fake.new_issue(tool.project, f"Issue {n}").key for n in range(3)]
    tool.fake.issues[keys[1]].labels = ["sync"]
    tool.fake.add_filter("Synced issues", "labels = sync")
    return keys


def test_a_query_or_a_saved_filter_narrows_what_detection_lists(tool, labelled):
    with registry.connect(jira_settings(tool.fake)) as connector:
        everything = connector.changed_since(tool.project, None)
        by_label = connector.changed_since(tool.project, None, query="labels = sync")
        by_filter = connector.changed_since(tool.project, None, query='filter = "Synced issues"')
    assert [i.id for i in everything.items] == labelled
    assert [i.id for i in by_label.items] == [i.id for i in by_filter.items] == [labelled[1]]


@pytest.mark.parametrize(
    "query, said",
    [
        ("filter = 99999", "does not exist for the field 'filter'"),
        ("labels = sync ORDER BY created DESC", "has an ORDER BY"),
    ],
)
def test_a_query_jira_cannot_run_is_1116E(tool, labelled, query, said):
    with registry.connect(jira_settings(tool.fake)) as connector, pytest.raises(QueryNotCreated) as raised:
        connector.changed_since(tool.project, None, query=query)
    assert raised.value.code == "CCRRTT-1116E" and said in raised.value.message


def test_detection_reads_only_the_query_and_blocks_with_1116E_when_the_filter_is_gone(
    trackers, master_password, licensed, tool, labelled, db
):
    integration = integration_with(tool)
    remote = integration.collection_b
    remote.query = "filter = 10000"
    remote.save()
    assert "CCRRTT-1413E" not in {p.code for p in validation.problems()}  # Jira runs queries
    run(integration)
    assert list(LocalItem.objects.values_list("summary", flat=True)) == ["Issue 1"]

    tool.fake.filters.clear()  # the filter was deleted in Jira
    run(integration)
    blocker = Blocker.objects.get(code="CCRRTT-1116E")
    assert "filter" in blocker.message and "10000" in blocker.message
