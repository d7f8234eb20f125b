"""Creation markers hidden in a Markdown description: an HTML comment at its end, which GitHub and
GitLab keep but do not render. Shared by the GitHub and GitLab connectors: they write it on create,
keep it on every later write of the description, and never show it as part of the value.

Comment markers work the same way at the end of a comment Hub writes (``hub-comment:
<integration>/<side>:<comment id>``, naming the comment it copies), where the target connector has
``capabilities.comment_marker``: a retry after a kill finds the copy it already wrote, and the copy
is never taken for an original of the other side."""

from __future__ import annotations

import re

MARKER = re.compile(r"\s*<!-- hub-marker: ([\w-]+) -->\s*$")


def marker_of(body: str | None) -> str:
    match = MARKER.search(body or "")
    return match.group(1) if match else ""


def without_marker(body: str | None) -> str:
    return MARKER.sub("", body or "")


def with_marker(body: str, marker: str) -> str:
    return f"{body}\n\n<!-- hub-marker: {marker} -->" if marker else body


COMMENT_MARKER = re.compile(r"\s*<!-- hub-comment: ([\w:/-]+) -->\s*$")


def comment_key_of(body: str | None) -> str:
    match = COMMENT_MARKER.search(body or "")
    return match.group(1) if match else ""


def without_comment_marker(body: str | None) -> str:
    return COMMENT_MARKER.sub("", body or "")


def with_comment_marker(body: str, key: str) -> str:
    return f"{body}\n\n<!-- hub-comment: {key} -->" if key else body
