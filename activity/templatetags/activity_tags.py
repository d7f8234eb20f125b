"""Template helpers of the Activity screen: links to error help pages and to tools."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template
from django.urls import reverse
from django.utils.html import format_html

from activity import catalog

register = template.Library()


@register.simple_tag
def code_link(code: str):
    """A catalog code as a link to its help page; an unknown code (old data) stays plain text."""
    if not code:
        return ""
    if not catalog.is_known(code):
        return format_html('<span class="code">{}</span>', code)
    return format_html(
        '<a class="code" href="{}" title="{}">{}</a>',
        reverse("help-error", kwargs={"code": code}),
        catalog.entry(code).title,
        code,
    )


@register.filter
def safe_url(url: str) -> str:
    """Only http(s) addresses and Hub's own paths become links: a ``javascript:`` URL must never be
    clickable, nor a ``//elsewhere`` one pass for a local path."""
    if not url:
        return ""
    if url.startswith("/") and not url.startswith("//"):
        return url
    return url if urlsplit(url).scheme in ("http", "https") else ""


@register.simple_tag
def action_url(definition, action: str, tab=None) -> str:
    kwargs = {"list_key": definition.key, "action": action}
    if tab:
        kwargs["tab"] = tab.key
    return reverse("activity-action", kwargs=kwargs)


@register.filter
def is_list(value) -> bool:
    return isinstance(value, list | tuple)
