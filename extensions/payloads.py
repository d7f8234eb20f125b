"""The runtime side of payload transformations (``transformPayload``), for the Gateway endpoint
(issue #15) to call: one inbound payload in, zero or more artifacts shaped like the gateway
collection's model out. See docs/extensions.md, "Payload transformations".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from extensions import transformations
from extensions.errors import LicenseRefused, OutputInvalid
from extensions.models import Extension, ExtensionType


def _multi(values: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Query parameters or headers as the guide gives them: name → array of values."""
    out: dict[str, list[str]] = {}
    for name, value in (values or {}).items():
        out[str(name)] = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    return out


def transform_payload(
    extension: Extension,
    payload: Any,
    *,
    parameters: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    model_fields: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Run ``transformPayload(payload, parameters, headers)``; returns the artifacts to create or
    update (an empty list: ignore this payload). Raises ExtensionFailed (17011E) when the script
    throws, OutputInvalid (17024E) when it returns anything but an array of objects whose keys
    are fields of the model (``model_fields``, when given), LicenseRefused (65001E)."""
    from extensions.licensing import _refusal
    from hub import licensing

    if extension.type != ExtensionType.PAYLOAD_TRANSFORMATION:
        raise OutputInvalid(f"Extension “{extension.name}” is not a payload transformation.")
    refused = _refusal(licensing.Feature.GATEWAY_PAYLOAD_TRANSFORMATION, None)
    if refused is not None:
        raise LicenseRefused(f"Payload transformation cannot be used: {refused.message}", code=refused.code)
    result = transformations.run(
        extension, "transformPayload", [payload, _multi(parameters), _multi(headers)]
    )
    value = [] if result.undefined else result.value
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise OutputInvalid(
            f"Extension “{extension.name}”: transformPayload must return an array of objects, "
            f"not {str(value)[:80]}."
        )
    if model_fields is not None:
        known = set(model_fields)
        for number, item in enumerate(value, start=1):
            unknown = sorted(set(item) - known)
            if unknown:
                raise OutputInvalid(
                    f"Extension “{extension.name}”: artifact {number} has field(s) {', '.join(unknown)} "
                    f"that the model lacks (its fields: {', '.join(sorted(known))})."
                )
    return value
