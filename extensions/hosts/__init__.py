"""The host APIs an extension calls, answered in Python (see ``extensions.runtime``): ``store``,
``persons``, ``artifacts``, ``ldap`` and ``httpClient``. ``html.escape`` and ``console.log`` need
no host and live in the prelude.

Each invocation gets a ``HostApis`` naming what its call may reach: person searches go to the
repository the extension serves, artifact look-ups to the collection's repository and the
integration's pairs. An API a call cannot reach throws ``HostException`` in the script.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from extensions.runtime import HostError


class HostApis:
    def __init__(self, *, persons=None, artifacts=None, allow_network: bool = True):
        self.persons = persons  # extensions.hosts.persons.PersonsApi
        self.artifacts = artifacts  # extensions.hosts.artifacts.ArtifactsApi
        self.allow_network = allow_network
        self.host_seconds = 0.0  # time spent answering, which does not count against the script

    def __call__(self, api: str, args: list) -> Any:
        handler = HANDLERS.get(api)
        if handler is None:
            raise HostError("HostException", f"{api} is not a host API of Hub.")
        started = time.perf_counter()
        try:
            return handler(self, *args)
        except TypeError as error:
            raise HostError("HostException", f"{api}: {error}") from None
        finally:
            self.host_seconds += time.perf_counter() - started


def _store_value(apis: HostApis, store: str, key: str):
    from extensions import kvstores

    return kvstores.retrieve_value(store, key)


def _store_pairs(apis: HostApis, store: str):
    from extensions import kvstores

    return kvstores.retrieve_pairs(store)


def _needs(what, name: str):
    if what is None:
        raise HostError("HostException", f"The {name} API is not available to this extension here.")
    return what


def _persons(method: str) -> Callable:
    def call(apis: HostApis, *args):
        return getattr(_needs(apis.persons, "persons"), method)(*args)

    return call


def _artifacts(method: str) -> Callable:
    def call(apis: HostApis, *args):
        return getattr(_needs(apis.artifacts, "artifacts"), method)(*args)

    return call


def _ldap_search(apis: HostApis, connection: dict, base: str, query: str, fields):
    from extensions.hosts import ldap

    return ldap.search(connection, base, query, fields)


def _http_send(apis: HostApis, spec: dict):
    from extensions.hosts import http

    return http.send(spec)


HANDLERS: dict[str, Callable] = {
    "store.retrieveValue": _store_value,
    "store.retrievePairs": _store_pairs,
    "persons.listPersonSearchFields": _persons("list_search_fields"),
    "persons.searchPerson": _persons("search_person"),
    "artifacts.retrieveArtifact": _artifacts("retrieve"),
    "artifacts.listSearchTypes": _artifacts("list_search_types"),
    "artifacts.getSearchDefinition": _artifacts("search_definition"),
    "artifacts.search": _artifacts("search"),
    "artifacts.searchByFormattedId": _artifacts("search_by_formatted_id"),
    "artifacts.toContainer": _artifacts("to_container"),
    "artifacts.getAssociatedRelationship": _artifacts("associated_relationship"),
    "artifacts.getAssociatedContainer": _artifacts("associated_container"),
    "ldap.search": _ldap_search,
    "httpClient.send": _http_send,
}
