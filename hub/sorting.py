"""Server-side ordering of a list screen by a whitelisted column: ``?sort=<key>`` or ``?sort=-<key>``
(descending). A value that is not one of the list's columns is ignored (the list's default order),
so no request can order by an arbitrary field, and every link the headers carry is built from the
whitelist, never echoed from the request.

A view declares its columns, sorts its queryset and hands the headers to
``templates/hub/_sort_header.html``:

    sorting = Sorting(request.GET, COLUMNS, default="name")
    rows = sorting.apply(Repository.objects.all())
    render(..., {"sorting": sorting})
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

PARAMETER = "sort"


@dataclass(frozen=True)
class Column:
    key: str  # the value of ?sort=
    label: str
    fields: tuple[str, ...]  # what the queryset is ordered by (ascending), ties broken by the next


@dataclass(frozen=True)
class Header:
    column: Column
    url: str  # "?<the request's other parameters>&sort=<this column, toggled>"
    state: str  # aria-sort: "ascending", "descending" or "none"


class Sorting:
    def __init__(self, data, columns: Sequence[Column], *, default: str, descending: bool = False):
        """``data``: the request's query parameters (``request.GET``)."""
        self.columns = {column.key: column for column in columns}
        self.default, self.default_descending = default, descending
        value = data.get(PARAMETER, "")
        key = value[1:] if value.startswith("-") else value
        if key in self.columns:
            self.key, self.descending, self.chosen = key, value.startswith("-"), True
        else:
            self.key, self.descending, self.chosen = default, descending, False
        self._query = data.copy()
        for name in (PARAMETER, "page", "csrfmiddlewaretoken", "scope", "ids", "side"):
            self._query.pop(name, None)

    @property
    def value(self) -> str:
        """The current order as ?sort= carries it ("" for the default)."""
        return ("-" if self.descending else "") + self.key if self.chosen else ""

    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [sign + name for name in self.columns[self.key].fields] + [sign + "pk"]

    def apply(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*self.order_by())

    def headers(self) -> dict[str, Header]:
        """One header per column, by key, for the templates."""
        found = {}
        for key, column in self.columns.items():
            current = key == self.key
            state = ("descending" if self.descending else "ascending") if current else "none"
            query = self._query.copy()
            query[PARAMETER] = ("" if current and self.descending else "-") + key if current else key
            found[key] = Header(column, "?" + query.urlencode(), state)
        return found
