"""The door of a gateway collection: what the endpoint checks before it stores a payload, and the
answer it gives. Plain data in (the request's pieces), an ``Answer`` out, so the view stays a shell."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from activity import error_cap
from activity.models import ArtifactActivity, Blocker
from hub import jsonload
from integrations.gateway import shapes
from integrations.models import GatewayCollection, GatewayPayload, Integration
from integrations.models.integrations import Style
from integrations.secrets import fingerprint

INVALID_JSON = "CCRRTT-30004E"
INVALID_DATA = "CCRRTT-30002E"
NOT_LISTENED = "CCRRTT-20000E"
STOPPED = "CCRRTT-30008E"
SHOWN_BODY = 2000  # characters of a refused body kept for the Activity screen
RETRY_LATER = 30  # seconds a sender is asked to wait while nothing can take its payload


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def size_limit() -> int:
    return int(settings.HUB["hub.gateway.maxPayloadSize"]) * 1024 * 1024


def rate_limit() -> int:
    return int(settings.HUB["hub.gateway.rateLimit"])


def authenticated(collection_id: int, authorization: str) -> GatewayCollection | None:
    """The collection whose token the ``Authorization: Bearer …`` header carries, or None. An
    unknown collection and a wrong token look alike to the caller."""
    scheme, _, token = (authorization or "").partition(" ")
    collection = GatewayCollection.objects.filter(pk=collection_id).select_related("model").first()
    if collection is None or scheme.lower() != "bearer" or not token.strip() or not collection.token_hash:
        return None
    if not hmac.compare_digest(fingerprint(token.strip()), collection.token_hash):
        return None
    return collection


LISTENING_STYLES = (Style.GATEWAY, Style.ENTERPRISE_DATA_STREAM)  # EDS: a gateway collection as source


def listeners(collection: GatewayCollection) -> list[Integration]:
    return list(
        Integration.objects.filter(style__in=LISTENING_STYLES, gateway_collection=collection, running=True)
        .select_related("collection_b", "sql_collection")
        .order_by("pk")
    )


def unavailable(collection: GatewayCollection) -> Answer | None:
    """503 while nothing would take the payload: safe mode, a lost lease, no master password or
    license, or no running integration listening. The documentation drops such payloads; answering
    503 with Retry-After lets a retrying sender lose nothing instead."""
    from hub.gates import integration_work_allowed

    allowed, reason = integration_work_allowed()
    if not allowed:
        return _later(STOPPED, f"Hub is not processing now: {reason}")
    # The cap on failed activities pauses what brings in new work; for a gateway that is this door.
    # The blocker is kept current by every detection and every gateway write round (error_cap.check).
    cap = Blocker.objects.filter(key=error_cap.KEY).only("code", "message").first()
    if cap is not None:
        return _later(cap.code, cap.message)
    if not listeners(collection):
        return _later(
            NOT_LISTENED,
            f"No running integration is listening to the gateway collection “{collection.name}”.",
        )
    return None


def _later(code: str, message: str) -> Answer:
    return Answer(503, {"code": code, "message": message}, {"Retry-After": str(RETRY_LATER)})


def flooded(collection: GatewayCollection) -> Answer | None:
    """429 once the collection took ``hub.gateway.rateLimit`` payloads in the last second. Counted
    in the database, so every web worker shares one limit."""
    since = timezone.now() - dt.timedelta(seconds=1)
    recent = GatewayPayload.objects.filter(collection=collection, received__gte=since).count()
    if recent < rate_limit():
        return None
    return Answer(
        429,
        {"code": INVALID_DATA, "message": "Too many payloads for this gateway collection; retry shortly."},
        {"Retry-After": "1"},
    )


def receive(
    collection: GatewayCollection,
    body: bytes,
    *,
    parameters: Mapping[str, list[str]],
    headers: Mapping[str, list[str]],
) -> Answer:
    """Check the body of an authenticated, available request and store it; 202 with its id."""
    if len(body) > size_limit():
        refuse(collection, body, INVALID_DATA, f"The payload is larger than {size_limit()} bytes.")
        return Answer(
            413, {"code": INVALID_DATA, "message": f"The payload is larger than {size_limit()} bytes."}
        )
    try:
        text = body.decode("utf-8")
        payload = jsonload.loads(text)  # bounded nesting: a RecursionError would be a 500
        # JSON allows escaped lone surrogates ("\ud800"), which no database column can hold.
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError) as error:
        message = f"The payload is not valid JSON: {error}."
        refuse(collection, body, INVALID_JSON, message)
        return Answer(400, {"code": INVALID_JSON, "message": message})
    if collection.extension_id is None:
        problems = shapes.problems_of(collection.model, payload)
        if problems:
            message = "The payload does not match the model “{}”: {}".format(
                collection.model.name, " ".join(problems)
            )
            refuse(collection, body, INVALID_DATA, message)
            return Answer(400, {"code": INVALID_DATA, "message": message, "fields": problems})
    stored = GatewayPayload.objects.create(
        collection=collection, body=text, parameters=dict(parameters), headers=dict(headers)
    )
    wake()
    return Answer(202, {"id": stored.pk})


def refuse(collection: GatewayCollection, body: bytes, code: str, message: str) -> None:
    """Keep a refused payload (its body truncated) and show the refusal on the Activity screen of
    each listening integration. Nothing of it is processed."""
    shown = body[: SHOWN_BODY * 4].decode("utf-8", errors="replace")[:SHOWN_BODY]
    with transaction.atomic():
        payload = GatewayPayload.objects.create(
            collection=collection,
            body=shown,
            status=GatewayPayload.Status.REFUSED,
            code=code,
            message=message,
            processed=timezone.now(),
        )
        for integration in listeners(collection):
            ArtifactActivity.objects.create(
                **shapes.related(integration, collection),
                artifact_id=f"payload-{payload.pk}",
                summary=f"Payload {payload.pk} refused",
                status=ArtifactActivity.Status.IGNORED,
                code=code,
                message=f"{message}\nBody ({len(body)} bytes, first {len(shown)} characters): {shown}",
            )


_last_wake = [0.0]
WAKE_EVERY = 0.5  # seconds; the beat's "process due activities" runs every 5 s besides


def wake() -> None:
    """Wake the workers, at most every ``WAKE_EVERY`` seconds per process: one wake-up serves every
    payload stored before the worker looks, and a flood must not cost a broker message each."""
    from integrations.engine.hints import wake as wake_workers

    now = time.monotonic()
    if now - _last_wake[0] < WAKE_EVERY:
        return
    _last_wake[0] = now
    wake_workers()
