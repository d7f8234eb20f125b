"""Fixtures every connector test module may use: the real peer servers, started once a session."""

from tests.connectors.peers import redmine_peer_server, roundup_peer_server  # noqa: F401 - fixtures
