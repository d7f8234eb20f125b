"""Recording configuration changes: every create, update and delete of a configuration element
goes through ``record``, which hands a snapshot by names (no secrets) to ``hub.audit``, the one
audit mechanism of Hub, and then re-validates the configuration."""

from __future__ import annotations

from typing import Any

from integrations import validation
from integrations.snapshots import snapshot


class Source:
    CONSOLE = "console"
    API = "api"
    COMMAND = "command"
    IMPORT = "import"


def record(
    user,
    action: str,
    element_type: str,
    name: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    element_id: int | str = "",
    source: str = Source.CONSOLE,
    request_id: str = "",
    validate: bool = True,
):
    from hub.audit import record_change

    change = record_change(
        user,
        action,
        element_type,
        name,
        before,
        after,
        source=source,
        element_id=element_id,
        request_id=request_id,
    )
    if validate:
        validation.validate()
    return change


class Change:
    """``with Change(user, "integration", obj, source=...) as change: …save…`` records the update
    (or create, when ``obj`` is None or unsaved) with before and after snapshots."""

    def __init__(
        self, user, element_type: str, obj=None, *, source: str = Source.CONSOLE, request_id: str = ""
    ):
        self.user, self.element_type, self.obj = user, element_type, obj
        self.source, self.request_id = source, request_id
        self.before = snapshot(element_type, obj) if obj is not None and obj.pk else None

    def __enter__(self):
        return self

    def done(self, obj) -> None:
        self.obj = obj

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False
        from integrations.snapshots import name_of

        after = snapshot(self.element_type, self.obj)
        if after == self.before:
            return False
        record(
            self.user,
            "update" if self.before is not None else "create",
            self.element_type,
            name_of(self.obj),
            before=self.before,
            after=after,
            element_id=self.obj.pk,
            source=self.source,
            request_id=self.request_id,
        )
        return False


def record_delete(
    user, element_type: str, obj, *, source: str = Source.CONSOLE, request_id: str = ""
) -> None:
    from integrations.snapshots import name_of

    before = snapshot(element_type, obj)
    name, pk = name_of(obj), obj.pk
    from integrations.snapshots import delete

    delete(element_type, obj)
    record(
        user, "delete", element_type, name, before=before, element_id=pk, source=source, request_id=request_id
    )
