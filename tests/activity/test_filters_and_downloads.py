"""Search, filters, paging and CSV downloads: what a filter selects is what the page, the bulk
actions and the download see."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import ArtifactActivity
from tests.activity import factories

pytestmark = pytest.mark.django_db


def result_line(response) -> str:
    body = response.content.decode()
    start = body.index('data-testid="result">') + len('data-testid="result">')
    return body[start : body.index("<", start)].strip()


def rows_of(response) -> list[dict]:
    content = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(content)))


@pytest.fixture
def completed():
    rows = factories.activities(1200, "completed", spread=True)
    factories.activities(50, "failed", start=5000)
    return rows


def test_paging_says_which_results_of_how_many(admin_client, completed):
    assert result_line(admin_client.get("/activity/activities/completed/")) == "Result 1 - 25 of 1200"
    assert result_line(admin_client.get("/activity/activities/completed/?page=3")) == "Result 51 - 75 of 1200"


def test_newest_activity_comes_first(admin_client, completed):
    body = admin_client.get("/activity/activities/completed/").content.decode()
    assert body.index("PROJ-10000<") < body.index("PROJ-10003<")


def test_search_matches_id_summary_message_and_code(admin_client, completed):
    assert (
        result_line(admin_client.get("/activity/activities/completed/?q=proj-10999")) == "Result 1 - 1 of 1"
    )
    assert result_line(admin_client.get("/activity/activities/completed/?q=USER+1199")) == "Result 1 - 1 of 1"
    assert (
        result_line(admin_client.get("/activity/activities/failed/?q=ccrrtt-1002e")) == "Result 1 - 25 of 50"
    )
    assert (
        result_line(admin_client.get("/activity/activities/failed/?q=read+the+person"))
        == "Result 1 - 25 of 50"
    )


def test_exclusive_search_keeps_only_activities_without_the_text(admin_client, completed):
    # "user 1" is in users 1, 10-19, 100-199 and 1000-1199: 1 + 10 + 100 + 200 = 311 of 1200.
    assert (
        result_line(admin_client.get("/activity/activities/completed/?without=user+1"))
        == "Result 1 - 25 of 889"
    )


def test_integration_filter(admin_client, completed):
    assert (
        result_line(admin_client.get("/activity/activities/completed/?integration=2"))
        == "Result 1 - 25 of 400"
    )


def test_integration_status_filter_asks_the_integration_hook(admin_client, completed, integrations_running):
    running = result_line(admin_client.get("/activity/activities/completed/?integration_state=running"))
    stopped = result_line(admin_client.get("/activity/activities/completed/?integration_state=stopped"))
    assert (running, stopped) == ("Result 1 - 25 of 800", "Result 1 - 25 of 400")


def test_created_in_the_last_days_and_in_a_fixed_range(admin_client, completed):
    # One activity a minute: the last day holds 1440 minutes, so all 1200; the last hour 60 (0..59 ago).
    ArtifactActivity.objects.filter(formatted_id="PROJ-10000").update(
        created=timezone.now() - timedelta(days=5)
    )
    assert (
        result_line(admin_client.get("/activity/activities/completed/?last_days=2"))
        == "Result 1 - 25 of 1199"
    )
    day = (timezone.now() - timedelta(days=5)).date()
    url = f"/activity/activities/completed/?created_from={day}&created_to={day}"
    assert result_line(admin_client.get(url)) == "Result 1 - 1 of 1"


def test_a_filter_that_matches_nothing_says_so(admin_client, completed):
    body = admin_client.get("/activity/activities/completed/?q=no-such-thing").content.decode()
    assert "No artifact activities match the filters." in body


def test_pairs_search_by_id_or_summary_and_filter_by_integration(admin_client):
    factories.pairs(900)
    assert result_line(admin_client.get("/activity/pairs/?q=%23500123")) == "Result 1 - 1 of 1"
    assert result_line(admin_client.get("/activity/pairs/?q=PROJ-77")) == "Result 1 - 11 of 11"
    assert result_line(admin_client.get("/activity/pairs/?q=broken+42")) == "Result 1 - 11 of 11"
    assert result_line(admin_client.get("/activity/pairs/?integration=1")) == "Result 1 - 25 of 300"


def test_jobs_filter_by_type_and_search(admin_client):
    factories.job(status="completed", kind="route_move", name="Move route PROJ")
    factories.job(status="completed", name="Replace project WEB")
    assert result_line(admin_client.get("/activity/jobs/completed/?kind=route_move")) == "Result 1 - 1 of 1"
    assert result_line(admin_client.get("/activity/jobs/completed/?q=web")) == "Result 1 - 1 of 1"


def test_filter_changes_answer_only_the_list_for_htmx(admin_client, completed):
    response = admin_client.get(
        "/activity/activities/completed/?integration=1", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="list"') and 'id="banner"' not in body


def test_csv_download_holds_exactly_what_the_filters_select(admin_client, completed):
    response = admin_client.get("/activity/activities/completed/download/?integration=3")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert len(rows) == 400
    assert {row["Integration"] for row in rows} == {factories.INTEGRATIONS[3]}
    first = rows[0]
    assert (
        first["Status"] == "completed"
        and first["Result"] == "updated"
        and first["URL"].startswith("https://")
    )


def test_csv_download_keeps_the_order_chosen_by_a_column_header(admin_client, completed):
    artifacts = [
        row["Artifact"]
        for row in rows_of(admin_client.get("/activity/activities/failed/download/?sort=artifact"))
    ]
    assert len(artifacts) == 50 and artifacts == sorted(artifacts)
    backwards = rows_of(admin_client.get("/activity/activities/failed/download/?sort=-artifact"))
    assert [row["Artifact"] for row in backwards] == artifacts[::-1]


def test_failed_csv_carries_code_message_and_retries(admin_client, completed):
    rows = rows_of(admin_client.get("/activity/activities/failed/download/"))
    assert len(rows) == 50
    assert (rows[0]["Code"], rows[0]["Retries"]) == ("CCRRTT-1002E", "3")


def test_pairs_blockers_and_jobs_download(admin_client):
    factories.pairs(30)
    factories.blocker()
    factories.job(status="completed")
    pairs = rows_of(admin_client.get("/activity/pairs/download/?q=PROJ-1"))
    assert len(pairs) == 11 and pairs[0]["Artifact B"].startswith("#")
    blockers = rows_of(admin_client.get("/activity/blockers/download/"))
    assert blockers[0]["Code"] == "CCRRTT-1401E"
    assert len(rows_of(admin_client.get("/activity/jobs/completed/download/"))) == 1


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_defused(admin_client):
    factories.activities(1, "failed", summary='=HYPERLINK("http://evil.example","click")', message="-2+3")
    rows = rows_of(admin_client.get("/activity/activities/failed/download/"))
    assert rows[0]["Summary"] == '\'=HYPERLINK("http://evil.example","click")'
    assert rows[0]["Message"] == "'-2+3"


def test_csv_cells_are_written_as_data_not_split_by_commas_or_quotes(admin_client):
    factories.activities(1, "failed", summary='Crash, "quoted", and\nnewline')
    rows = rows_of(admin_client.get("/activity/activities/failed/download/"))
    assert rows[0]["Summary"] == 'Crash, "quoted", and\nnewline'
