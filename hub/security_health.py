"""The health checks of the master password and the license (registered when Hub starts)."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from hub import licensing, vault
from hub.health import FAIL, NOT_APPLICABLE, PASS, Result, register


@register("passwordEncryptionInitialized")
def password_encryption_initialized() -> Result:
    """Every primitive secrets and licenses rely on works in this runtime (else CCRRTT-60001E)."""
    try:
        aead = AESGCM(AESGCM.generate_key(bit_length=256))
        nonce = os.urandom(12)
        if aead.decrypt(nonce, aead.encrypt(nonce, b"hub", None), None) != b"hub":
            raise ValueError("AES-256-GCM round trip mismatch")
        Scrypt(salt=os.urandom(16), length=32, n=2**4, r=8, p=1).derive(b"hub")
        signer = Ed25519PrivateKey.generate()
        signer.public_key().verify(signer.sign(b"hub"), b"hub")
    except Exception as exc:  # noqa: BLE001 — any failure means the runtime cannot protect secrets
        return Result(FAIL, f"CCRRTT-60001E: password encryption is not usable here ({type(exc).__name__}).")
    return Result(PASS, "AES-256-GCM, scrypt and Ed25519 are available.")


@register("securityIsSetUp")
def security_is_set_up() -> Result:
    state = vault.state()
    if state == vault.SecurityState.NOT_SET:
        return Result(FAIL, "No master password has been set.")
    if state == vault.SecurityState.LOCKED:
        return Result(FAIL, "The master password must be re-entered: its file is missing on this machine.")
    return Result(PASS, "The master password is set and secrets can be read.")


@register("licenseConfigured")
def license_configured() -> Result:
    status = licensing.current()
    if status.license is None:
        reason = (
            "No license has been applied." if status.problem == licensing.Problem.MISSING else status.message
        )
        return Result(FAIL, reason)
    return Result(PASS, f"A {status.license.type} license is applied.")


@register("licenseExpired")
def license_expired() -> Result:
    status = licensing.current()
    if status.license is None:
        return Result(NOT_APPLICABLE, "No valid license is applied.")
    if status.problem == licensing.Problem.EXPIRED:
        return Result(FAIL, f"The license expired on {status.license.expires:%Y-%m-%d}.")
    return Result(PASS, f"The license is valid until {status.license.expires:%Y-%m-%d}.")


@register("licensesValid")
def licenses_valid() -> Result:
    status = licensing.current()
    if status.problem:
        return Result(FAIL, status.message)
    refusals = licensing.usage_refusals(status)
    if refusals:
        return Result(FAIL, " ".join(f"{r.code}: {r.message}" for r in refusals))
    return Result(PASS, "Everything configured is allowed by the license.")
