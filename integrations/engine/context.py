"""What the engine needs of an integration, read once per batch: both sides with their collection,
mapping lines and a connector opened on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from django.db import models

from activity.blockers import blocks_integration
from hub.fields import MASK
from integrations.engine import mapping
from integrations.engine.routing import RouteRow
from integrations.models import Integration

REVISION = "__revision__"  # snapshot key: the side's revision when Hub last synchronized it
# snapshot key: the fields Hub has begun to write to that side and whose outcome the pair does not
# record yet (processing.Processor.writing: committed before the write, gone with the next save)
WRITING = "__writing__"


def other(side: str) -> str:
    return "B" if side == "A" else "A"


@dataclass
class SideContext:
    name: str
    collection: object
    lines: list = field(default_factory=list)
    _connector: object = None

    @property
    def repository(self):
        return self.collection.repository

    @property
    def connector(self):
        if self._connector is None:
            from connectors import registry

            self._connector = registry.connect(self.repository.settings())
        return self._connector

    @property
    def capabilities(self):
        # The connector's own, not its class's: some depend on the repository's settings (Redmine
        # stores a creation marker only when a marker custom field is configured).
        return self.connector.capabilities

    @property
    def artifact_type(self) -> str:
        return (self.collection.artifact_types or [""])[0]

    def close(self) -> None:
        if self._connector is not None:
            self._connector.close()
            self._connector = None


class IntegrationContext:
    def __init__(self, integration: Integration):
        self.integration = integration
        self.sides = {
            name: SideContext(name, collection, mapping.lines_of(collection))
            for name, collection in (("A", integration.collection_a), ("B", integration.collection_b))
        }
        self.routes = [RouteRow.of(route) for route in integration.routes.all()]
        self.model_types = mapping.model_types(self.sides["A"].lines) | mapping.model_types(
            self.sides["B"].lines
        )

    @classmethod
    def load(cls, integration_id: int) -> IntegrationContext:
        integration = (
            Integration.objects.select_related(
                "collection_a__repository",
                "collection_a__model",
                "collection_b__repository",
                "collection_b__model",
            )
            .prefetch_related("routes", "collection_a__mappings", "collection_b__mappings")
            .get(pk=integration_id)
        )
        return cls(integration)

    def close(self) -> None:
        for side in self.sides.values():
            side.close()

    def masked(self, text: str) -> str:
        return masked(text, [side.repository for side in self.sides.values()])


def masked(text: str, repositories) -> str:
    """``text`` with these repositories' secrets hidden. Connectors keep secrets out of their
    messages, but an unexpected error's text (a library quoting a URL with credentials, say) is
    shown on the Activity screen and logged as it is, and secrets never leave the instance."""
    try:
        settings = [repository.settings() for repository in repositories]
    except Exception:  # not unsealable now: then no connector of this process can have used them
        return text
    for each in settings:
        for secret in (each.password, each.token, each.proxy_password):
            if secret:
                text = text.replace(secret, MASK).replace(quote(secret, safe=""), MASK)
    return text


def mask_secrets(integration_id: int, text: str) -> str:
    """``masked`` for the two repositories of an integration (read from the database)."""
    from integrations.models import Repository

    return masked(
        text,
        Repository.objects.filter(
            models.Q(collections__integrations_as_a=integration_id)
            | models.Q(collections__integrations_as_b=integration_id)
        ).distinct(),
    )


def may_work(integration: Integration) -> tuple[bool, str]:
    """Whether detection and processing may run for this integration now, and why not."""
    from hub.gates import integration_work_allowed

    allowed, reason = integration_work_allowed()
    if not allowed:
        return False, reason
    return integration_ready(integration)


def integration_ready(integration: Integration) -> tuple[bool, str]:
    """``may_work`` without the instance-wide gates (for a caller that has checked them already)."""
    if not integration.running:
        return False, "The integration is stopped."
    if integration.collection_a is None or integration.collection_b is None:
        return False, "The integration has no collection on one side."
    if blocks_integration(integration.pk):
        return False, "A configuration problem blocks the integration (see the Activity screen's blockers)."
    return True, ""
