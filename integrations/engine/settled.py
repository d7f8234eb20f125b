"""Change detection without echo reads where the tool's listing gives only a "last changed" time.

Redmine's issue listing has no journals and its ``updated_on`` has one-second precision, so change
detection cannot tell from it whether an issue is still as Hub last synchronized it; and without a
``Date`` header the watermark is the newest ``updated_on`` seen, so while nothing changes every
issue changed within the last ``detection.OVERLAP`` before the newest change is listed again at
every detection — read, found unchanged, dropped, again and again (issue #20: 42 reads per 5 s
detection in an idle bounded acceptance run).

So when a batch reads an artifact and finds nothing to take from it (Hub's echo, or values as
synchronized with no comment or attachment left to copy), it records that artifact's "last
changed" time as the pair side's *settled* stamp — but only if the read began at least
``SETTLE_AFTER`` after that time. A listing that shows the artifact at exactly that stamp is then
skipped without a read: a later change would carry a later time, because by the read the tool's
clock had left that second (and ``OVERLAP``, the commit lag detection already allows for, too).

The margin is measured on Hub's clock: it assumes the tool's clock is not behind Hub's by more than
``CLOCK_TOLERANCE`` (NTP keeps both within milliseconds). A settled stamp never hides a change at
a different time; a stale one (a whole-pair save that wrote back an older value) only costs a read.
"""

from __future__ import annotations

import datetime as dt

from activity.models import ArtifactPair

CLOCK_TOLERANCE = dt.timedelta(seconds=10)


def settle_after() -> dt.timedelta:
    from integrations.engine.detection import OVERLAP

    return OVERLAP + CLOCK_TOLERANCE


def stamp(when: dt.datetime | None) -> str:
    return when.astimezone(dt.UTC).isoformat() if when is not None else ""


def record(integration_id: int, side: str, artifacts, read_started: dt.datetime) -> int:
    """Record the settled stamp of each artifact (read from ``side`` by a read that began at
    ``read_started``, and found to hold nothing to take) that changed long enough before the read;
    returns how many pairs were updated."""
    margin = settle_after()
    column, artifact_column = f"{side.lower()}_settled", f"{side.lower()}_artifact_id"
    updated = 0
    for artifact in artifacts:
        when = getattr(artifact, "updated", None)
        if when is None or read_started < when + margin:
            continue
        text = stamp(when)
        updated += (
            ArtifactPair.objects.filter(integration_id=integration_id, **{artifact_column: artifact.id})
            .exclude(**{column: text})
            .update(**{column: text})
        )
    return updated
