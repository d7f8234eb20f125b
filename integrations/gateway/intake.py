"""The door of a gateway collection: what the endpoint checks before it stores a payload, and the
answer it gives. Plain data in (the request's pieces), an ``Answer`` out, so the view stays a shell."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import threading
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


# What the door knows of a collection, kept ``DOOR_TTL`` seconds per web process so that a payload
# costs its insert and not the ten queries of the answer (token, model fields, lease, master key,
# license, blockers, listening integrations). A change of configuration in this process empties it
# at once (``forget``, connected to the configuration models' signals in ``IntegrationsConfig``);
# another process's change is seen within ``DOOR_TTL``.
DOOR_TTL = 1.0
RATE_RECOUNT = 0.1  # seconds between two counts of a collection's last second in the database


@dataclass
class Door:
    collection: GatewayCollection | None
    fields: dict[str, Any] | None = None  # the model's FieldInfo by key, when there is no extension
    answer: Answer | None = None  # the 503 while nothing would take a payload, else None
    known_until: float = 0.0


_doors: dict[int, Door] = {}
_rates: dict[int, list[float]] = {}  # collection id → [counted at, count then, stored since]


def forget(*_args, **_kwargs) -> None:
    """Forget every collection's door and rate count (a signal receiver: any configuration change)."""
    _doors.clear()
    _rates.clear()


# One thread of a process re-reads an expired door (or recounts a rate) while the others go on with
# what it knew a moment ago: at every expiry all the process's threads re-read it at once before
# (8 threads × ~10 queries each second per process), which was a good part of the answers' tail.
# A door forgotten by a configuration change is not there any more: whoever comes first reads it.
_refreshing = threading.Lock()
_recounting = threading.Lock()


def door(collection_id: int) -> Door:
    now = time.monotonic()
    known = _doors.get(collection_id)
    if known is not None and known.known_until > now:
        return known
    if known is None:
        return _read_door(collection_id, now)
    if not _refreshing.acquire(blocking=False):
        return known  # another thread is reading it: at most that read older
    try:
        return _read_door(collection_id, now)
    finally:
        _refreshing.release()


def _read_door(collection_id: int, now: float) -> Door:
    collection = GatewayCollection.objects.filter(pk=collection_id).select_related("model").first()
    known = Door(collection, known_until=now + DOOR_TTL)
    if collection is not None:
        if collection.extension_id is None:
            known.fields = shapes.infos(collection.model)
        known.answer = _unavailable(collection)
    _doors[collection_id] = known
    return known


def authenticated(collection_id: int, authorization: str) -> GatewayCollection | None:
    """The collection whose token the ``Authorization: Bearer …`` header carries, or None. An
    unknown collection and a wrong token look alike to the caller."""
    scheme, _, token = (authorization or "").partition(" ")
    collection = door(collection_id).collection
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
    503 with Retry-After lets a retrying sender lose nothing instead. Known for ``DOOR_TTL``."""
    if settings.SAFE_MODE:  # free to look at: not cached
        return _later(STOPPED, "Hub is not processing now: Hub was started in safe mode.")
    return door(collection.pk).answer


def _unavailable(collection: GatewayCollection) -> Answer | None:
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
    in the database, so every web worker shares one limit: at most every ``RATE_RECOUNT`` seconds
    per process, plus what this process stored since."""
    now = time.monotonic()
    rate = _rates.get(collection.pk)
    if rate is None:
        rate = _recount(collection, now)
    elif now - rate[0] >= RATE_RECOUNT and _recounting.acquire(blocking=False):
        try:
            rate = _recount(collection, now)
        finally:
            _recounting.release()
    if rate[1] + rate[2] < rate_limit():
        return None
    return Answer(
        429,
        {"code": INVALID_DATA, "message": "Too many payloads for this gateway collection; retry shortly."},
        {"Retry-After": "1"},
    )


def _recount(collection: GatewayCollection, now: float) -> list[float]:
    since = timezone.now() - dt.timedelta(seconds=1)
    rate = _rates[collection.pk] = [
        now,
        GatewayPayload.objects.filter(collection=collection, received__gte=since).count(),
        0,
    ]
    return rate


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
        problems = shapes.problems_of(collection.model, payload, door(collection.pk).fields)
        if problems:
            message = "The payload does not match the model “{}”: {}".format(
                collection.model.name, " ".join(problems)
            )
            refuse(collection, body, INVALID_DATA, message)
            return Answer(400, {"code": INVALID_DATA, "message": message, "fields": problems})
    stored = store(
        GatewayPayload(collection=collection, body=text, parameters=dict(parameters), headers=dict(headers))
    )
    _stored(collection)
    wake()
    return Answer(202, {"id": stored.pk})


# Group commit. Each accepted payload needs a commit before its 202, and a commit on PostgreSQL is
# a WAL flush (~2.7 ms on this machine, more when the disk is shared). Payloads that reach one web
# process while another thread's commit is under way wait for it, then the first of them to get
# the turn stores every waiting payload in one statement and one transaction: one flush answers
# them all. A lone payload is stored at once, as before; nobody waits longer than one commit in
# progress plus its own. Every payload is answered only after the commit that holds it
# (``stored.pk`` is set then), so a 202 still means stored. bench/gateway.py --group-commit measures it.
GROUP_COMMIT = True
_waiting: list[GatewayPayload] = []
_waiting_lock = threading.Lock()  # guards _waiting
_turn = threading.Lock()  # held by the thread committing a group
_done: dict[int, BaseException | None] = {}  # id(payload) → its group's failure, None once stored


def store(payload: GatewayPayload) -> GatewayPayload:
    """Store ``payload`` durably (alone or in a group with other threads' payloads) and return it
    with its id. Raises what storing it raised; nothing of it is then stored."""
    from django.db import connection

    if not GROUP_COMMIT or connection.in_atomic_block or connection.allow_thread_sharing:
        # Inside a caller's transaction its commit is the caller's. A connection shared between
        # threads (the test server's on the in-memory SQLite database, where every request thread
        # uses the test's one connection) has one transaction for all of them: another thread's
        # INSERT would run inside a group's transaction and answer 202, then the group's failed
        # COMMIT ("SQL statements in progress") rolled that row back too: the 202s without a row of
        # the CI run of 2026-12-03. Each thread of a web process has a connection of its own.
        payload.save(force_insert=True)
        return payload
    key = id(payload)
    with _waiting_lock:
        _waiting.append(payload)
    with _turn:
        with _waiting_lock:
            if key in _done:  # an earlier turn stored it (or failed to)
                failure = _done.pop(key)
                group = []
            else:
                group, _waiting[:] = list(_waiting), []
        if group:
            failure = _store_group(group, key)
    if failure is not None:
        raise failure
    return payload


def _store_group(group: list[GatewayPayload], key: int) -> BaseException | None:
    """Store ``group`` in one transaction; when that fails, each payload on its own, so that one
    payload the database refuses does not fail the others. Records each other payload's outcome in
    ``_done`` and returns ``key``'s."""
    outcomes: dict[int, BaseException | None] = {}
    try:
        _insert(group)
        outcomes = {id(payload): None for payload in group}
    except Exception as error:  # noqa: BLE001 - each payload is tried alone below
        if len(group) == 1:
            outcomes = {id(group[0]): error}
        else:
            for payload in group:
                payload.pk = None
                try:
                    payload.save(force_insert=True)
                    outcomes[id(payload)] = None
                except Exception as alone:  # noqa: BLE001 - handed to its own request's thread
                    outcomes[id(payload)] = alone
    mine = outcomes.pop(key)
    with _waiting_lock:
        _done.update(outcomes)
    return mine


def _insert(group: list[GatewayPayload]) -> None:
    """One payload: an autocommitted INSERT (one round trip, as before group commit). Several: one
    multi-row INSERT in a transaction (BEGIN, INSERT, COMMIT), or one INSERT each in it where the
    database cannot return the new ids of a multi-row INSERT."""
    from django.db import connection

    if len(group) == 1:
        group[0].save(force_insert=True)
        return
    with transaction.atomic():
        if connection.features.can_return_rows_from_bulk_insert:
            GatewayPayload.objects.bulk_create(group)
        else:
            for payload in group:
                payload.save(force_insert=True)


def _stored(collection: GatewayCollection) -> None:
    rate = _rates.get(collection.pk)
    if rate is not None:
        rate[2] += 1


def refuse(collection: GatewayCollection, body: bytes, code: str, message: str) -> None:
    """Keep a refused payload (its body truncated) and show the refusal on the Activity screen of
    each listening integration. Nothing of it is processed."""
    shown = body[: SHOWN_BODY * 4].decode("utf-8", errors="replace")[:SHOWN_BODY]
    # A NUL byte is no character PostgreSQL's text can hold: it is shown as the replacement mark, in
    # the body and in the message, which may quote the payload (a field's key).
    shown = shown.replace("\x00", "\ufffd")
    message = message.replace("\x00", "\ufffd")
    with transaction.atomic():
        payload = GatewayPayload.objects.create(
            collection=collection,
            body=shown,
            status=GatewayPayload.Status.REFUSED,
            code=code,
            message=message,
            processed=timezone.now(),
        )
        _stored(collection)
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
_wanted = threading.Event()
_waker: list[threading.Thread] = []
_waker_lock = threading.Lock()


def wake() -> None:
    """Wake the workers, at most every ``WAKE_EVERY`` seconds per process: one wake-up serves every
    payload stored before the worker looks, and a flood must not cost a broker message each. The
    broker message is sent by a thread of its own: a slow or unreachable broker never holds up an
    answer (the payload is stored already; the beat finds it if the message is lost)."""
    now = time.monotonic()
    if now - _last_wake[0] < WAKE_EVERY:
        return
    _last_wake[0] = now
    with _waker_lock:
        if not _waker or not _waker[0].is_alive():
            _waker[:] = [threading.Thread(target=_wake_loop, name="gateway-wake", daemon=True)]
            _waker[0].start()
    _wanted.set()


def _wake_loop() -> None:
    from integrations.engine import hints

    while True:
        _wanted.wait()
        _wanted.clear()
        hints.wake()  # never raises: a broker that is down is logged
