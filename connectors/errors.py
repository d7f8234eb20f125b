"""Errors a connector raises. Each carries the catalog code the Activity screen shows and whether
the failure is transient (the engine retries it later) or permanent (it needs a person).

The engine decides from the class alone: ``except ConnectorError as error: if error.transient: ...``.
Connectors raise the most specific class that fits and put the detail a person needs to act in the
message (which field, which project, what the tool answered) — never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping


class ConnectorError(Exception):
    """A failure talking to a repository. ``code`` is a catalog code, ``transient`` says whether
    trying the same thing again later may succeed."""

    code = "CCRRTT-30006E"
    transient = False

    def __init__(self, message: str, *, code: str | None = None, transient: bool | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if transient is not None:
            self.transient = transient

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class Transient(ConnectorError):
    """A temporary failure with no more specific class (a dropped connection mid-answer, a 502)."""

    code = "CCRRTT-30013E"
    transient = True


class Unreachable(ConnectorError):
    """The repository could not be reached: refused connection, unknown host, timeout."""

    code = "CCRRTT-1000E"
    transient = True


class CredentialsRefused(ConnectorError):
    code = "CCRRTT-61101E"


class QueryNotCreated(ConnectorError):
    """The tool refused the collection's repository query (a JQL the server cannot parse, a saved
    filter that does not exist or that Hub's user may not read): detection of the side stops
    rather than reading more (or less) than the query names."""

    code = "CCRRTT-1116E"


class DependentValueNotFound(ConnectorError):
    """A dependent single select (the child of a Jira cascading select) did not change, but its
    parent did, and the new parent has no child with the unchanged value's label."""

    code = "CCRRTT-50006E"


class AuthenticationExpired(ConnectorError):
    """The repository stopped accepting credentials it accepted earlier in the same session: its
    authentication state expired. The next attempt authenticates again."""

    code = "CCRRTT-1104W"
    transient = True


class AuthenticationFailed(ConnectorError):
    """Authentication went wrong in a way that is not a refusal of the credentials (that is
    CredentialsRefused, 61101E): the tool's "who am I" answer is not a user at all — typically the
    HTML sign-in page of a single sign-on gateway in front of the tool, answered with 200."""

    code = "CCRRTT-1107E"


class RepositoryDisabled(ConnectorError):
    """The repository is disabled: nothing connects to it until a person enables it again."""

    code = "CCRRTT-61106E"


class ProxyCredentialsRefused(ConnectorError):
    code = "CCRRTT-61102E"


class InvalidSettings(ConnectorError):
    """The repository's settings cannot work (malformed URL, unknown auth method, missing value)."""

    code = "CCRRTT-61103E"


class Overloaded(ConnectorError):
    """The tool says it is under too much load (503). ``retry_after`` in seconds when it said."""

    code = "CCRRTT-61104E"
    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimited(Overloaded):
    """The tool refused because we exceeded its rate limit (429); ``retry_after`` is its wait."""

    code = "CCRRTT-61105I"


class EventRateLimited(Overloaded):
    """Hub's own per-repository event rate limit is exhausted for longer than a caller may wait."""

    code = "CCRRTT-1115I"


class InsecureConnectionRefused(ConnectorError):
    """TLS verification failed (self-signed, expired, wrong host) and the repository does not allow
    insecure connections."""

    code = "CCRRTT-1113E"


class ProjectNotFound(ConnectorError):
    code = "CCRRTT-1110E"


class ArtifactNotFound(ConnectorError):
    """The artifact does not exist (any more): deleted, retired, or never existed. The engine treats
    this as "deleted" — see ``Connector.is_deleted``."""

    code = "CCRRTT-30006E"


class ValuesNotAccepted(ConnectorError):
    """The tool refused one or more values. ``fields`` maps field id → reason, so the message can
    name each field (an attachment is named by its file name)."""

    code = "CCRRTT-17003E"

    def __init__(self, message: str, *, fields: Mapping[str, str] | None = None, **kwargs):
        self.fields = dict(fields or {})
        if self.fields:
            detail = "; ".join(f"{name}: {reason}" for name, reason in self.fields.items())
            message = f"{message} ({detail})"
        super().__init__(message, **kwargs)


def attachment_too_large(filename: str, limit: int) -> ValuesNotAccepted:
    return ValuesNotAccepted("The attachment is too large.", fields={filename: f"larger than {limit} bytes"})


class ArtifactLocked(ConnectorError):
    """Another user or process holds the artifact. Transient: try again later."""

    code = "CCRRTT-1112E"
    transient = True


class RevisionConflict(ArtifactLocked):
    """An update carried an expected revision and the artifact has changed since: re-read, then retry."""


class CreationUnsupported(ConnectorError):
    code = "CCRRTT-17017E"


class OperationUnsupported(ConnectorError):
    """The connector does not offer this operation (see its ``capabilities``)."""

    code = "CCRRTT-1003E"
