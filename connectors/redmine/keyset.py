"""Keyset paging over a tool's offset paging, shared by the Redmine and Roundup connectors.

Both tools can only page by offset through a list sorted by a one-second timestamp. Offsets lose
items: when an item on an earlier page is updated it moves to the end, everything behind it
shifts forward by one, and the item at the page boundary is never seen. So every page asks again
for items updated at or after the last second returned, and drops those already returned in that
second (the cursor remembers them). An item updated meanwhile now has a later timestamp and comes
again on a later page. The tools sort by their full-precision clock, which may order items within
one second differently from their ids; remembering ids instead of a position is immune to that.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from connectors.types import ChangedItem, ChangePage
from hub.ids import is_digits


@dataclass(frozen=True)
class Cursor:
    stamp: str  # the tool's own text of the last second returned
    updated: dt.datetime  # the same second
    seen: frozenset[str]  # ids already returned with that stamp
    clock: dt.datetime | None  # the server clock read before the first page

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        state = json.loads(text)
        clock = dt.datetime.fromisoformat(state["clock"]) if state.get("clock") else None
        updated = dt.datetime.fromisoformat(state["updated"])
        return cls(state["stamp"], updated, frozenset(state["seen"]), clock)

    def encode(self) -> str:
        clock = self.clock.isoformat() if self.clock else None
        state = {"stamp": self.stamp, "updated": self.updated.isoformat(), "seen": sorted(self.seen)}
        return json.dumps({**state, "clock": clock})

    def returned(self, item: ChangedItem, stamp: Stamp = lambda item: item.revision) -> bool:
        """Earlier seconds came on earlier pages. (Redmine's ``>=`` filter also answers the second
        before the one asked for, so they do come again.)"""
        return item.updated < self.updated or (stamp(item) == self.stamp and item.id in self.seen)


# The tool's timestamp text of an item: by default its revision (Redmine, Roundup); connectors whose
# revision is something else (GitHub's content digest) say where the timestamp is.
Stamp = Callable[[ChangedItem], str]

# fetch(n) → (items of the n-th batch in the tool's order, whether it was the last, server clock)
Fetch = Callable[[int], tuple[list[ChangedItem], bool, dt.datetime | None]]


def next_page(
    fetch: Fetch, cursor: Cursor | None, size: int, stamp: Stamp = lambda item: item.revision
) -> ChangePage:
    """One page of at most ``size`` items that ``cursor`` has not returned. ``stamp(item)`` is the
    tool's timestamp text (the value the next query filters on): the revision unless said."""
    clock = cursor.clock if cursor else None
    batch = 0
    while True:
        items, last_batch, batch_clock = fetch(batch)
        clock = clock or batch_clock
        fresh = [item for item in items if not (cursor and cursor.returned(item, stamp))]
        if fresh or last_batch:
            break
        batch += 1  # a whole batch returned before (many items in one second): look further
    fresh.sort(key=lambda item: (item.updated, int(item.id) if is_digits(item.id) else 0))
    page = fresh[:size]
    if not page or (len(fresh) <= size and last_batch):
        return ChangePage(items=page, next_cursor=None, server_time=clock)
    last, updated = stamp(page[-1]), page[-1].updated
    seen = {item.id for item in page if stamp(item) == last}
    if cursor and cursor.stamp == last:
        seen |= cursor.seen
    return ChangePage(
        items=page, next_cursor=Cursor(last, updated, frozenset(seen), clock).encode(), server_time=clock
    )
