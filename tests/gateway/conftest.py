"""A Gateway over the local tracker: the gateway collection “CI builds” (the factories' Defect model,
title + priority + due, and a build key), a running Gateway integration into Beta's WEB project."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from integrations.gateway import intake
from integrations.models import GatewayCollection, Integration, ModelField
from integrations.services import new_gateway_token
from tests.extensions.conftest import ALL_FEATURES, make_extension  # noqa: F401
from tests.hub.security_fixtures import (  # noqa: F401
    isolated_security,
    issue,
    licensed,
    master_password,
    signing_key,
)
from tests.integrations.factories import *  # noqa: F403
from tests.integrations.factories import mapped_collection

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def all_licensed(db, issue):  # noqa: F811
    from hub import licensing

    return licensing.apply(issue(features=ALL_FEATURES))


@pytest.fixture
def woken(monkeypatch):
    calls = []
    monkeypatch.setattr(intake, "wake", lambda: calls.append(1))
    return calls


@pytest.fixture
def gateway(trackers, repositories, model, master_password, all_licensed, woken):  # noqa: F811
    ModelField.objects.create(model=model, key="key", label="Key", type="string", position=3)
    collection = GatewayCollection(name="CI builds", model=model)
    token = new_gateway_token(collection)
    collection.save()
    target = mapped_collection("Beta defects", repositories[1], "WEB", model)
    integration = Integration.objects.create(
        name="CI → Beta",
        style=Integration.Style.GATEWAY,
        gateway_collection=collection,
        collection_b=target,
        running=True,
    )
    return SimpleNamespace(
        collection=collection, token=token, target=target, integration=integration, woken=woken
    )


def configure(settings, **values) -> None:
    """Override keys of hub.properties for one test (``settings`` is pytest-django's fixture)."""
    settings.HUB = type(settings.HUB)(
        home=settings.HUB.home, values={**settings.HUB.values, **values}, sources=settings.HUB.sources
    )
