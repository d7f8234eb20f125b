import pytest

from tests.activity import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/activity/blockers/",
        "/activity/jobs/processing/",
        "/activity/jobs/failed/",
        "/activity/jobs/completed/",
        "/activity/activities/pending/",
        "/activity/activities/processing/",
        "/activity/activities/failed/",
        "/activity/activities/ignored/",
        "/activity/activities/completed/",
        "/activity/pairs/",
        "/activity/banner/",
    ],
)
def test_every_tab_renders(admin_client, url):
    factories.activities(30, "failed")
    factories.activities(30, "completed", start=100)
    factories.pairs(30)
    factories.blocker()
    factories.job()
    response = admin_client.get(url)
    assert response.status_code == 200, response.content[:2000]
