"""Checks shared by connectors whose tools authenticate webhook deliveries with Basic credentials
(ServiceNow's outbound REST messages, Azure DevOps service hooks): any user name, Hub's secret as
the password."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping

from connectors.errors import CredentialsRefused


def require_basic_secret(headers: Mapping[str, str], secret: str) -> None:
    """Raise CredentialsRefused unless the delivery's Basic password is the secret."""
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    try:
        password = (
            base64.b64decode(credential).decode().partition(":")[2] if scheme.lower() == "basic" else ""
        )
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        password = ""
    if not secret or not hmac.compare_digest(password.encode(), secret.encode()):
        raise CredentialsRefused("The delivery's Basic credentials do not match the secret.")
