"""Creation markers hidden in a Markdown description: an HTML comment at its end, which GitHub and
GitLab keep but do not render. Shared by the GitHub and GitLab connectors: they write it on create,
keep it on every later write of the description, and never show it as part of the value."""

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
