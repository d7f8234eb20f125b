"""Licenses: small signed JSON documents, verified with Ed25519 against the public keys this
instance trusts, and the one function other parts of Hub ask whether a feature is granted.

A license document is::

    {"format": "hub-license/1", "key": "<key id>", "signature": "<base64>",
     "license": {"type": ..., "description": ..., "licensee": ..., "issuer": ...,
                 "max_users": 25, "created": "2026-01-31", "expires": "2027-01-31",
                 "edition": "basic" | "advanced", "instance": null,
                 "features": {"integration_styles": ["*"], "connector_kinds": ["jira", ...],
                              "extension_types": [...], "key_value_stores": true, ...}}}

The signature covers the canonical JSON of ``license`` (sorted keys, no spaces, UTF-8). Trusted
keys come from ``hub.license.trustedKeys``; in addition, on its first start an instance signs a
30-day evaluation license for itself with a key pair it makes and whose private half it throws
away, so that key can sign nothing else, and is trusted by this instance only, for that license.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from hub import jsonload
from hub.instance import instance_id
from hub.models import AppliedLicense

FORMAT = "hub-license/1"
EVALUATION_TYPE = "Evaluation"
EVALUATION_DAYS = 30
EVALUATION_MAX_USERS = 25
EXPIRY_WARNING_DAYS = 30
MAX_DOCUMENT_BYTES = 64 * 1024


class Edition(StrEnum):
    BASIC = "basic"
    ADVANCED = "advanced"


class Feature(StrEnum):
    INTEGRATION_STYLE = "integration_styles"
    CONNECTOR_KIND = "connector_kinds"
    EXTENSION_TYPE = "extension_types"
    KEY_VALUE_STORES = "key_value_stores"
    CONDITIONAL_FIELD_FLOW = "conditional_field_flow"
    ARTIFACT_UNIONS = "artifact_unions"
    GATEWAY_PAYLOAD_TRANSFORMATION = "gateway_payload_transformation"
    TEST_STEPS = "test_steps"
    USERS = "users"


# Features granted as lists of names ("*" grants every name), and those granted as yes/no.
LISTED = (Feature.INTEGRATION_STYLE, Feature.CONNECTOR_KIND, Feature.EXTENSION_TYPE)
FLAGS = (
    Feature.KEY_VALUE_STORES,
    Feature.CONDITIONAL_FIELD_FLOW,
    Feature.ARTIFACT_UNIONS,
    Feature.GATEWAY_PAYLOAD_TRANSFORMATION,
    Feature.TEST_STEPS,
)
# Flags an edition grants when the license does not name them: test step functionality comes with
# the Advanced edition (docs/time-tracking.md, "The license gate for test steps").
EDITION_FLAGS = {Feature.TEST_STEPS: frozenset({"advanced"})}
LABELS = {
    Feature.INTEGRATION_STYLE: "integration style",
    Feature.CONNECTOR_KIND: "connector",
    Feature.EXTENSION_TYPE: "extension type",
    Feature.KEY_VALUE_STORES: "key-value stores",
    Feature.CONDITIONAL_FIELD_FLOW: "conditional field flow",
    Feature.ARTIFACT_UNIONS: "artifact unions",
    Feature.GATEWAY_PAYLOAD_TRANSFORMATION: "gateway payload transformation",
    Feature.TEST_STEPS: "test step synchronization",
}
REFUSAL_CODES = {
    Feature.INTEGRATION_STYLE: "CCRRTT-64001E",
    Feature.CONNECTOR_KIND: "CCRRTT-15005E",
    Feature.EXTENSION_TYPE: "CCRRTT-65001E",
    Feature.KEY_VALUE_STORES: "CCRRTT-65001E",
    Feature.GATEWAY_PAYLOAD_TRANSFORMATION: "CCRRTT-20006E",  # the catalog's gateway code
    Feature.CONDITIONAL_FIELD_FLOW: "CCRRTT-15012E",
    Feature.ARTIFACT_UNIONS: "CCRRTT-15013E",
    # No catalog entry names test steps: 64001E is the catalog's refusal of an integration for a
    # license restriction, and its user actions (disable it, or change it) are what helps.
    Feature.TEST_STEPS: "CCRRTT-64001E",
    Feature.USERS: "CCRRTT-30016E",
}


class LicenseError(ValueError):
    """The license text cannot be used; the message says why in words an administrator can act on."""


@dataclass(frozen=True)
class License:
    type: str
    description: str
    licensee: str
    issuer: str
    max_users: int
    created: date
    expires: date
    edition: Edition
    features: dict = field(default_factory=dict)
    instance: str | None = None
    key_id: str = ""

    def days_left(self, today: date | None = None) -> int:
        return (self.expires - (today or timezone.localdate())).days

    def is_expired(self, today: date | None = None) -> bool:
        return self.days_left(today) < 0

    def expires_soon(self, today: date | None = None) -> bool:
        return 0 <= self.days_left(today) <= EXPIRY_WARNING_DAYS

    @property
    def is_evaluation(self) -> bool:
        return self.type == EVALUATION_TYPE

    def grants(self, feature: Feature, value: str | None = None) -> bool:
        granted = self.features.get(str(feature))
        if feature in LISTED:
            return isinstance(granted, list) and ("*" in granted or value in granted)
        if granted is None and feature in EDITION_FLAGS:
            return str(self.edition) in EDITION_FLAGS[feature]
        return granted is True


class Problem(StrEnum):
    MISSING = "missing"
    EXPIRED = "expired"
    INVALID = "invalid"


PROBLEM_CODES = {
    Problem.MISSING: "CCRRTT-30018E",
    Problem.EXPIRED: "CCRRTT-63001E",
    Problem.INVALID: "CCRRTT-15002E",
}


@dataclass(frozen=True)
class LicenseStatus:
    license: License | None
    problem: Problem | None = None
    detail: str = ""

    @property
    def code(self) -> str | None:
        return PROBLEM_CODES[self.problem] if self.problem else None

    @property
    def message(self) -> str:
        if self.problem == Problem.MISSING:
            return (
                "No license has been applied: integrations do not process. Apply one in Settings → License."
            )
        if self.problem == Problem.EXPIRED:
            return (
                f"The license expired on {self.license.expires:%Y-%m-%d}: integrations do not process until "
                "a new license is applied in Settings → License."
            )
        if self.problem == Problem.INVALID:
            return f"The applied license is not valid ({self.detail}): apply a new one in Settings → License."
        return "The license is valid."


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


# --- keys -----------------------------------------------------------------------------------------


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def generate_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise LicenseError(f"The private key cannot be read as an unencrypted PEM key ({exc}).") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise LicenseError("The private key is not an Ed25519 key.")
    return key


def _evaluation_key_path() -> Path:
    return Path(settings.HUB_HOME) / "license-evaluation.pub"


def trusted_keys() -> dict[str, tuple[Ed25519PublicKey, bool]]:
    """Key id → (public key, whether it may sign only this instance's evaluation license)."""
    keys: dict[str, tuple[Ed25519PublicKey, bool]] = {}
    for text in settings.HUB_LICENSE_TRUSTED_KEYS:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text))
        keys[key_id_of(key)] = (key, False)
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(_evaluation_key_path().read_text().strip()))
    except (OSError, ValueError, binascii.Error):
        return keys
    keys.setdefault(key_id_of(key), (key, True))
    return keys


# --- documents ------------------------------------------------------------------------------------


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(body: dict, private_key: Ed25519PrivateKey) -> str:
    """The license document text for ``body`` signed with ``private_key``."""
    _parse_body(body)  # never sign what Hub would refuse
    document = {
        "format": FORMAT,
        "key": key_id_of(private_key.public_key()),
        "license": body,
        "signature": base64.b64encode(private_key.sign(canonical(body))).decode("ascii"),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _text(body: dict, name: str, required: bool = True) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise LicenseError(f"The license has no valid '{name}'.")
    return value.strip()


def _date(body: dict, name: str) -> date:
    try:
        return date.fromisoformat(body[name])
    except (KeyError, TypeError, ValueError):
        raise LicenseError(f"The license's '{name}' is not a date (YYYY-MM-DD).") from None


def _parse_body(body: dict, key_id: str = "") -> License:
    if not isinstance(body, dict):
        raise LicenseError("The license has no license fields.")
    max_users = body.get("max_users")
    if not isinstance(max_users, int) or isinstance(max_users, bool) or max_users < 1:
        raise LicenseError("The license's 'max_users' is not a whole number of at least 1.")
    try:
        edition = Edition(body.get("edition"))
    except ValueError:
        raise LicenseError("The license's 'edition' must be 'basic' or 'advanced'.") from None
    features = body.get("features")
    if not isinstance(features, dict):
        raise LicenseError("The license's 'features' are missing.")
    for feature in LISTED:
        names = features.get(str(feature), [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise LicenseError(f"The license's '{feature}' must be a list of names.")
    for feature in FLAGS:
        if not isinstance(features.get(str(feature), False), bool):
            raise LicenseError(f"The license's '{feature}' must be true or false.")
    created, expires = _date(body, "created"), _date(body, "expires")
    if expires < created:
        raise LicenseError("The license expires before it was created.")
    instance = body.get("instance")
    if instance is not None and not isinstance(instance, str):
        raise LicenseError("The license's 'instance' is not an instance id.")
    return License(
        type=_text(body, "type"),
        description=_text(body, "description", required=False),
        licensee=_text(body, "licensee"),
        issuer=_text(body, "issuer"),
        max_users=max_users,
        created=created,
        expires=expires,
        edition=edition,
        features=dict(features),
        instance=instance,
        key_id=key_id,
    )


def verify(text: str) -> License:
    """Parse ``text`` and check its signature against the trusted keys; raise ``LicenseError``."""
    if len(text.encode("utf-8", "replace")) > MAX_DOCUMENT_BYTES:
        raise LicenseError("This is too large to be a Hub license.")
    try:
        document = jsonload.loads(text)
    except jsonload.JsonRefused:
        raise LicenseError("This is not a Hub license: it is not a JSON document.") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise LicenseError(f"This is not a Hub license: its format is not {FORMAT}.")
    key_id, signature, body = document.get("key"), document.get("signature"), document.get("license")
    if not isinstance(key_id, str) or not isinstance(signature, str) or not isinstance(body, dict):
        raise LicenseError("This is not a Hub license: its key, signature or fields are missing.")
    trusted = trusted_keys().get(key_id)
    if trusted is None:
        raise LicenseError(
            f"The license is signed with a key this Hub does not trust (key {key_id}). "
            "Add the issuer's public key to hub.license.trustedKeys, or ask for a license signed with a "
            "trusted key."
        )
    public_key, evaluation_only = trusted
    try:
        public_key.verify(base64.b64decode(signature, validate=True), canonical(body))
    except (InvalidSignature, ValueError, binascii.Error):
        raise LicenseError(
            "The license's signature does not match its content: it was altered or damaged."
        ) from None
    parsed = _parse_body(body, key_id)
    if evaluation_only and (
        not parsed.is_evaluation
        or parsed.instance != instance_id()
        or parsed.expires - parsed.created > timedelta(days=EVALUATION_DAYS)
    ):
        raise LicenseError(
            "The evaluation key of this instance signs only its own 30-day evaluation license."
        )
    if parsed.instance is not None and parsed.instance != instance_id():
        raise LicenseError("The license belongs to another Hub instance.")
    return parsed


# --- the license in force -------------------------------------------------------------------------


def current(today: date | None = None) -> LicenseStatus:
    row = AppliedLicense.objects.order_by("-applied", "-id").first()
    if row is None:
        return LicenseStatus(None, Problem.MISSING)
    try:
        license = verify(row.text)
    except LicenseError as error:
        return LicenseStatus(None, Problem.INVALID, str(error))
    if license.is_expired(today):
        return LicenseStatus(license, Problem.EXPIRED)
    return LicenseStatus(license)


def apply(text: str, *, user=None, source: str = "console") -> License:
    """Verify and apply a new license; on any problem raise ``LicenseError`` and keep the old one."""
    from hub import audit, gates

    license = verify(text.strip())
    if license.is_expired():
        raise LicenseError(f"The license expired on {license.expires:%Y-%m-%d}; the current license stays.")
    before = current().license
    AppliedLicense.objects.create(
        text=text.strip(), key_id=license.key_id, applied_by=user.get_username() if user else ""
    )
    audit.record_change(
        user,
        "settings",
        "License",
        license.licensee,
        describe(before) if before else None,
        describe(license),
        source=source,
    )
    gates.refresh_global_blockers()
    return license


def describe(license: License) -> dict:
    return {
        "type": license.type,
        "licensee": license.licensee,
        "issuer": license.issuer,
        "max_users": license.max_users,
        "created": license.created.isoformat(),
        "expires": license.expires.isoformat(),
        "edition": str(license.edition),
    }


def evaluation_body(today: date | None = None) -> dict:
    today = today or timezone.localdate()
    return {
        "type": EVALUATION_TYPE,
        "description": f"{EVALUATION_DAYS}-day evaluation license that this Hub instance issued for itself.",
        "licensee": "Evaluation",
        "issuer": f"Hub instance {instance_id()}",
        "max_users": EVALUATION_MAX_USERS,
        "created": today.isoformat(),
        "expires": (today + timedelta(days=EVALUATION_DAYS)).isoformat(),
        "edition": str(Edition.ADVANCED),
        "instance": instance_id(),
        "features": {
            **{str(feature): ["*"] for feature in LISTED},
            **{str(feature): True for feature in FLAGS},
        },
    }


def ensure_evaluation_license() -> License | None:
    """On an instance's very first start, sign and apply its evaluation license; else do nothing.

    The key pair is made here and its private half is never stored, so the evaluation cannot be
    renewed by signing another one.
    """
    path = _evaluation_key_path()
    if path.exists() or AppliedLicense.objects.exists():
        return None
    private_key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None  # another process of this instance is issuing it
    with os.fdopen(fd, "w") as handle:
        handle.write(public_key_text(private_key.public_key()))
    text = sign(evaluation_body(), private_key)
    license = verify(text)
    AppliedLicense.objects.create(text=text, key_id=license.key_id, applied_by="")
    return license


# --- what other parts of Hub ask ------------------------------------------------------------------


def refusal(
    feature: Feature, value: str | None = None, *, status: LicenseStatus | None = None
) -> Refusal | None:
    """``None`` when the license in force grants ``feature`` (for ``value``: a connector kind, an
    integration style, an extension type, a user count); else the catalog code and message to raise.
    """
    status = status or current()
    if status.problem:
        return Refusal(status.code, status.message)
    license = status.license
    if feature == Feature.USERS:
        count = int(value) if value is not None else get_user_model().objects.filter(is_active=True).count()
        if count > license.max_users:
            return Refusal(
                REFUSAL_CODES[feature],
                f"Hub has {count} active users; the license allows at most {license.max_users}.",
            )
        return None
    if license.grants(feature, value):
        return None
    label = LABELS[feature]
    what = f"the {label} '{value}'" if feature in LISTED else label
    return Refusal(REFUSAL_CODES[feature], f"The license does not include {what}.")


UsageCheck = Callable[[License], list[Refusal]]
_usage_checks: list[UsageCheck] = []


def register_usage_check(check: UsageCheck) -> UsageCheck:
    """Other apps report what they use that the license may not grant (integrations by style,
    repositories by connector kind); health's ``licensesValid`` fails on any refusal."""
    _usage_checks.append(check)
    return check


def usage_refusals(status: LicenseStatus | None = None) -> list[Refusal]:
    status = status or current()
    if status.problem:
        return [Refusal(status.code, status.message)]
    users = refusal(Feature.USERS, status=status)
    refusals = [users] if users else []
    for check in _usage_checks:
        refusals += check(status.license)
    return refusals


def permits(feature: Feature, value: str | None = None) -> bool:
    return refusal(feature, value) is None
