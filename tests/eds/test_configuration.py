"""An EDS integration's configuration problems, each a blocker with its catalog code."""

from __future__ import annotations

import pytest

from integrations import validation

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["sqlite"])
def target_database(request, tmp_path):
    from types import SimpleNamespace

    return SimpleNamespace(engine="sqlite", url=f"sqlite:///{tmp_path / 'reports.sqlite3'}")


def codes() -> set[str]:
    return {problem.code for problem in validation.problems()}


def test_a_complete_stream_has_no_problem(stream):
    assert codes() == set()


def test_no_sql_collection_is_10004E_and_no_source_10005E(stream):
    stream.integration.sql_collection = stream.integration.collection_a = None
    stream.integration.save()
    assert {"CCRRTT-10004E", "CCRRTT-10005E"} <= codes()


def test_a_sql_collection_without_a_model_is_10006E(stream):
    stream.target.model = None
    stream.target.save()
    assert "CCRRTT-10006E" in codes()


def test_a_source_of_another_model_is_10007E(stream):
    from integrations.models import Model

    stream.target.model = Model.objects.create(name="Other")
    stream.target.save()
    assert "CCRRTT-10007E" in codes()


@pytest.mark.parametrize(
    "own, url",
    [
        (
            {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/hub/hub.sqlite3"},
            "sqlite:////srv/hub/hub.sqlite3",
        ),
        (
            {"ENGINE": "django.db.backends.postgresql", "NAME": "hub", "HOST": "db.example", "PORT": "5432"},
            "postgres://reports@db.example:5432/hub",
        ),
    ],
    ids=["sqlite", "postgres"],
)
def test_the_operational_database_is_refused_as_a_target(stream, settings, own, url):
    assert "CCRRTT-30015E" not in codes()
    settings.DATABASES = {**settings.DATABASES, "default": {**settings.DATABASES["default"], **own}}
    stream.target.database_url = url
    stream.target.save()
    assert "CCRRTT-30015E" in codes()
