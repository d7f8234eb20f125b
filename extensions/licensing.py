"""The license gates of extensions (CCRRTT-65001E): each extension type, and key-value stores."""

from __future__ import annotations

from extensions.errors import LicenseRefused
from hub import licensing


def refusal_of_type(extension_type: str):
    return licensing.refusal(licensing.Feature.EXTENSION_TYPE, extension_type)


def require_type(extension_type: str) -> None:
    refused = refusal_of_type(extension_type)
    if refused is not None:
        raise LicenseRefused(f"Extension cannot be used: {refused.message}", code=refused.code)


def refusal_of_stores():
    return licensing.refusal(licensing.Feature.KEY_VALUE_STORES)


def require_stores() -> None:
    refused = refusal_of_stores()
    if refused is not None:
        raise LicenseRefused(f"Key-value stores cannot be used: {refused.message}", code=refused.code)
