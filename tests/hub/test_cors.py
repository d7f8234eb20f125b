"""Cross-origin calls are refused except under hub.security.cors.exclusionPaths."""

import re

import pytest

from hub import config


@pytest.fixture
def excluded(settings):
    settings.CORS_URLS_REGEX = config.path_prefix_pattern(("/api/health", "/gateway/"))


def preflight(client, path):
    return client.options(
        path, HTTP_ORIGIN="https://elsewhere.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )


@pytest.mark.django_db
def test_no_cross_origin_access_by_default(client):
    response = client.get("/api/health", HTTP_ORIGIN="https://elsewhere.example")
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.django_db
def test_excluded_paths_answer_cross_origin_requests(client, excluded):
    response = client.get("/api/health", HTTP_ORIGIN="https://elsewhere.example")
    assert response.headers["access-control-allow-origin"] in ("*", "https://elsewhere.example")
    assert preflight(client, "/gateway/x").status_code == 200


@pytest.mark.django_db
def test_other_paths_stay_closed_when_some_are_excluded(client, excluded):
    response = client.get("/accounts/login/", HTTP_ORIGIN="https://elsewhere.example")
    assert "access-control-allow-origin" not in response.headers


def test_exclusion_paths_cover_their_subpaths_only():
    pattern = config.path_prefix_pattern(("/first-path", "/second-path/"))
    assert re.match(pattern, "/first-path/x") and re.match(pattern, "/second-path")
    assert not re.match(pattern, "/first-pathology")
    assert not re.match(config.path_prefix_pattern(()), "/anything")
