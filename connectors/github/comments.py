"""Issue comments kept current from GitHub's repository-wide comment feed
(``GET /repos/{o}/{r}/issues/comments?since=…&sort=updated&direction=asc``), so that reading a
changed issue does not list its comments again.

- The first read of an issue lists its comments (``/issues/{n}/comments``) and keeps them.
- Later reads first ask the feed for comments updated at or after the newest ``updated_at`` it has
  seen (one request per repository, and a 304 — free of the rate limit — when nothing changed),
  merge new and edited comments into what is kept, and list an issue's comments again only when
  the issue's ``comments`` count differs from what is kept: the feed does not report deletions,
  and a deletion always leaves more comments kept than the count says.
- The feed's first ``since`` is the ``updated_at`` of the first issue listed: every comment made or
  edited after that listing is newer than it (both are GitHub's clock, never Hub's).
- More than ``FEED_PAGES`` pages since the last read (a very busy repository, or one not read for
  long) drops what is kept for the repository; the issues are listed one by one again.

What is kept is per token digest, server and repository, for this process, bounded (``MAX_ISSUES`` issues
a repository, ``MAX_REPOSITORIES`` repositories, least recently used dropped first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.github.client import PER_PAGE
from hub.ids import parse_id

FEED_PAGES = 10  # of PER_PAGE (100) comments
MAX_ISSUES = 5_000
MAX_REPOSITORIES = 64


@dataclass
class Kept:
    since: str  # the feed's next ``since`` (GitHub's ``updated_at`` form)
    issues: OrderedDict[int, dict[int, dict]] = field(default_factory=OrderedDict)  # number → id → row


class CommentFeed:
    def __init__(self):
        self.lock = threading.Lock()
        self.repositories: OrderedDict[tuple[str, str, str], Kept] = OrderedDict()

    def clear(self) -> None:
        with self.lock:
            self.repositories.clear()

    def _kept(self, key: tuple[str, str, str]) -> Kept | None:
        with self.lock:
            kept = self.repositories.get(key)
            if kept is not None:
                self.repositories.move_to_end(key)
            return kept

    def refresh(self, api, project: str) -> None:
        """Merge what the feed says changed since the last refresh (nothing kept: no request)."""
        key = key_of(api, project)
        kept = self._kept(key)
        if kept is None:
            return
        params = {"since": kept.since, "sort": "updated", "direction": "asc"}
        rows = []
        feed = api.pages(f"/repos/{project}/issues/comments", params, FEED_PAGES + 1)
        for index, row in enumerate(feed):
            if index >= FEED_PAGES * PER_PAGE:
                with self.lock:
                    self.repositories.pop(key, None)
                return
            rows.append(row)
        with self.lock:
            for row in rows:
                comments = kept.issues.get(issue_number(row))
                if comments is not None:
                    comments[row["id"]] = row
                kept.since = max(kept.since, row.get("updated_at") or kept.since)

    def rows(self, api, project: str, issue: Mapping) -> list[dict]:
        """The issue's comments, oldest first: kept ones when their number matches the issue's
        ``comments`` count, else listed (and kept)."""
        key, number, count = key_of(api, project), issue["number"], issue.get("comments") or 0
        kept = self._kept(key)
        if kept is not None:
            with self.lock:
                comments = kept.issues.get(number)
                if comments is not None and len(comments) == count:
                    kept.issues.move_to_end(number)
                    return [comments[i] for i in sorted(comments)]
        listed = list(api.pages(f"/repos/{project}/issues/{number}/comments")) if count else []
        self.keep(api, project, issue, listed)
        return listed

    def keep(self, api, project: str, issue: Mapping, rows: list[dict]) -> None:
        key = key_of(api, project)
        with self.lock:
            kept = self.repositories.get(key)
            if kept is None:
                kept = self.repositories[key] = Kept(since=issue["updated_at"])
                while len(self.repositories) > MAX_REPOSITORIES:
                    self.repositories.popitem(last=False)
            kept.issues[issue["number"]] = {row["id"]: row for row in rows}
            kept.issues.move_to_end(issue["number"])
            while len(kept.issues) > MAX_ISSUES:
                kept.issues.popitem(last=False)

    def add(self, api, project: str, number: int, row: dict) -> None:
        """A comment Hub just wrote (the feed would bring it too)."""
        kept = self._kept(key_of(api, project))
        if kept is not None:
            with self.lock:
                comments = kept.issues.get(number)
                if comments is not None:
                    comments[row["id"]] = row


def key_of(api, project: str) -> tuple[str, str, str]:
    """Per token digest, server and repository: the same token and repository name on another
    server (GitHub Enterprise, a moved instance) are other comments."""
    return (api.fingerprint, api.base, project)


def issue_number(row: Mapping) -> int | None:
    """``issue_url`` ends with the issue's number (pull request comments too)."""
    tail = str(row.get("issue_url") or "").rsplit("/", 1)[-1]
    return parse_id(tail)


FEED = CommentFeed()
