"""Failures of extensions, each with the catalog code the Activity screen shows."""

from __future__ import annotations


class ExtensionError(Exception):
    code = "CCRRTT-17011E"

    def __init__(self, message: str, *, code: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        if code:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ExtensionFailed(ExtensionError):
    """The script threw, ran out of time or memory, or could not be compiled (17011E)."""

    code = "CCRRTT-17011E"


class OutputInvalid(ExtensionError):
    """The script returned something of the wrong type or shape (17024E), naming the field."""

    code = "CCRRTT-17024E"


class HostFailed(ExtensionError):
    """A host API could not do its work for a reason outside the script (LDAP 1004E/1005E): not
    catchable by the script, the artifact's activity fails with that code."""


class LicenseRefused(ExtensionError):
    code = "CCRRTT-65001E"
