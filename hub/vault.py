"""The master password and the encryption of every secret Hub stores.

Layout (docs/security.md):

- One random 256-bit *data key* encrypts every secret with AES-256-GCM. The associated data
  binds each ciphertext to its owner (``app.Model.field``) and to the data key's id, so a
  ciphertext copied into another column does not decrypt.
- The data key is stored only *wrapped*: AES-256-GCM under a key derived from the master
  password with scrypt (random salt; algorithm and cost recorded beside it in ``MasterKey``).
  Changing the master password rewraps that one row; no secret is re-encrypted.
- The master password itself is kept in a file in the home directory of the user running Hub
  (``settings.HUB_MASTER_KEY_FILE``, owner-only), encrypted under a key derived from this
  instance's ``secret.key``. So the database alone, the data directory alone or the home
  directory alone reveal nothing, and Hub unlocks itself on restart. Without that file an
  administrator re-enters the master password.

Every process (web workers, sync workers) unlocks itself from the file once and keeps the data
key in memory. All the cryptography comes from the ``cryptography`` package.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from hub.instance import instance_id
from hub.models import MasterKey

TOKEN_PREFIX = "hubsecret:v1:"  # noqa: S105 — marks ciphertext tokens, not a password
MINIMUM_LENGTH = 10
_SINGLETON = 1


class SecurityState(StrEnum):
    NOT_SET = "not-set"
    LOCKED = "locked"
    UNLOCKED = "unlocked"


class VaultError(Exception):
    """A secret cannot be stored or read; the message says why and never contains a secret."""

    code = "CCRRTT-30005E"


class MasterPasswordNotSet(VaultError):
    def __init__(self):
        super().__init__(
            "Secure password storage must be initialized: set the master password in Settings → General "
            "before saving a password or token."
        )


class MasterPasswordLocked(VaultError):
    code = "CCRRTT-16001E"

    def __init__(self):
        super().__init__(
            "The master password must be re-entered in Settings → General: its file is missing or out of "
            "date on this machine."
        )


class MasterPasswordAlreadySet(VaultError):
    def __init__(self):
        super().__init__("A master password is set already. Change it (with the current one) or reset it.")


class WrongMasterPassword(VaultError):
    def __init__(self):
        super().__init__("This is not the current master password.")


class UnacceptableMasterPassword(VaultError):
    pass


class SecretUnreadable(VaultError):
    code = "CCRRTT-60001E"

    def __init__(self, context: str):
        super().__init__(f"The stored secret of {context} cannot be decrypted; enter it again.")


# Data keys this process has unlocked, by key id.
_data_keys: dict[str, bytes] = {}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# --- the wrapped data key -----------------------------------------------------------------------


def _new_kdf() -> dict:
    return {"algorithm": "scrypt", "salt": _b64(os.urandom(16)), "n": settings.HUB_SCRYPT_N, "r": 8, "p": 1}


def _derive(kdf: dict, password: str) -> bytes:
    if kdf.get("algorithm") != "scrypt":
        raise VaultError(f"Unknown key derivation {kdf.get('algorithm')!r}.")
    scrypt = Scrypt(salt=_unb64(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"])
    return scrypt.derive(password.encode("utf-8"))


def _wrap(data_key: bytes, password: str, key_id: str) -> tuple[dict, str]:
    kdf = _new_kdf()
    nonce = os.urandom(12)
    wrapped = AESGCM(_derive(kdf, password)).encrypt(nonce, data_key, key_id.encode())
    return kdf, _b64(nonce + wrapped)


def _unwrap(row: MasterKey, password: str) -> bytes:
    blob = _unb64(row.wrapped_key)
    try:
        return AESGCM(_derive(row.kdf, password)).decrypt(blob[:12], blob[12:], row.key_id.encode())
    except InvalidTag:
        raise WrongMasterPassword() from None


def _row(lock: bool = False) -> MasterKey | None:
    queryset = MasterKey.objects.select_for_update() if lock else MasterKey.objects
    return queryset.filter(pk=_SINGLETON).first()


# --- the master password file -------------------------------------------------------------------


def master_password_file() -> Path:
    configured = settings.HUB_MASTER_KEY_FILE
    return Path(configured) if configured else Path.home() / ".hub" / f"{instance_id()}.key"


def _file_cipher() -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hub master password file")
    return AESGCM(hkdf.derive(settings.SECRET_KEY.encode()))


def _write_password_file(password: str) -> None:
    path = master_password_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    nonce = os.urandom(12)
    ciphertext = _file_cipher().encrypt(nonce, password.encode("utf-8"), instance_id().encode())
    body = json.dumps(
        {"format": 1, "instance": instance_id(), "nonce": _b64(nonce), "data": _b64(ciphertext)}
    )
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    os.replace(tmp, path)


def _read_password_file() -> str | None:
    try:
        body = json.loads(master_password_file().read_text())
        plain = _file_cipher().decrypt(_unb64(body["nonce"]), _unb64(body["data"]), instance_id().encode())
    except (OSError, ValueError, KeyError, TypeError, InvalidTag):
        return None  # missing, unreadable or from another instance: ask for the password again
    return plain.decode("utf-8")


# --- state and unlocking ------------------------------------------------------------------------


def _unlocked_key(row: MasterKey) -> bytes:
    key = _data_keys.get(row.key_id)
    if key is not None:
        return key
    password = _read_password_file()
    if password is None:
        raise MasterPasswordLocked()
    try:
        key = _unwrap(row, password)
    except WrongMasterPassword:
        raise MasterPasswordLocked() from None  # the file holds a password changed since
    _data_keys[row.key_id] = key
    return key


def state() -> SecurityState:
    row = _row()
    if row is None:
        return SecurityState.NOT_SET
    try:
        _unlocked_key(row)
    except VaultError:
        return SecurityState.LOCKED
    return SecurityState.UNLOCKED


def storage_problem() -> VaultError | None:
    """Why a new secret cannot be stored right now, or ``None``."""
    state_now = state()
    if state_now == SecurityState.NOT_SET:
        return MasterPasswordNotSet()
    if state_now == SecurityState.LOCKED:
        return MasterPasswordLocked()
    return None


def validate_new_password(password: str) -> None:
    if len(password) < MINIMUM_LENGTH or not password.strip():
        raise UnacceptableMasterPassword(
            f"The master password must have at least {MINIMUM_LENGTH} characters."
        )


def set_master_password(password: str) -> None:
    """Set the first master password: makes the data key. Refused when one is set already."""
    validate_new_password(password)
    data_key, key_id = AESGCM.generate_key(bit_length=256), uuid.uuid4().hex
    kdf, wrapped = _wrap(data_key, password, key_id)
    try:
        with transaction.atomic():
            if _row(lock=True) is not None:
                raise MasterPasswordAlreadySet()
            MasterKey.objects.create(pk=_SINGLETON, key_id=key_id, kdf=kdf, wrapped_key=wrapped)
    except IntegrityError:
        raise MasterPasswordAlreadySet() from None
    _data_keys[key_id] = data_key
    _write_password_file(password)


def unlock(password: str) -> None:
    """Re-enter the master password on a machine whose master password file is missing."""
    row = _row()
    if row is None:
        raise MasterPasswordNotSet()
    _data_keys[row.key_id] = _unwrap(row, password)
    _write_password_file(password)


def change_master_password(current: str, new: str) -> None:
    """Rewrap the data key under ``new``; every stored secret stays as it is and readable."""
    validate_new_password(new)
    with transaction.atomic():
        row = _row(lock=True)
        if row is None:
            raise MasterPasswordNotSet()
        data_key = _unwrap(row, current)
        row.kdf, row.wrapped_key = _wrap(data_key, new, row.key_id)
        row.save(update_fields=["kdf", "wrapped_key", "changed"])
    _data_keys[row.key_id] = data_key
    _write_password_file(new)
    _run_change_hooks()


def reset_master_password(new: str) -> dict[str, int]:
    """Erase every stored secret and start over with a new data key under ``new``.

    Returns how many records of each kind lost their secrets; the owners' reset hooks have run
    (a repository, say, is marked as needing new credentials) in the same transaction.
    """
    validate_new_password(new)
    data_key, key_id = AESGCM.generate_key(bit_length=256), uuid.uuid4().hex
    kdf, wrapped = _wrap(data_key, new, key_id)
    with transaction.atomic():
        _row(lock=True)
        erased = erase_all_secrets()
        MasterKey.objects.update_or_create(
            pk=_SINGLETON, defaults={"key_id": key_id, "kdf": kdf, "wrapped_key": wrapped}
        )
    _data_keys.clear()
    _data_keys[key_id] = data_key
    _write_password_file(new)
    _run_change_hooks()
    return erased


def forget_unlocked_keys() -> None:
    """Drop the data keys this process holds (as a fresh process would start)."""
    _data_keys.clear()


# --- encrypting and decrypting ------------------------------------------------------------------


def _associated_data(context: str, key_id: str) -> bytes:
    return f"{context}|{key_id}".encode()


def encrypt(plaintext: str, context: str) -> str:
    """Encrypt ``plaintext`` for the owner ``context`` (``app.Model.field``); returns a token."""
    row = _row()
    if row is None:
        raise MasterPasswordNotSet()
    key = _unlocked_key(row)
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), _associated_data(context, row.key_id))
    return f"{TOKEN_PREFIX}{row.key_id}:{_b64(nonce + ciphertext)}"


def is_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


def decrypt(token: str, context: str) -> str:
    try:
        key_id, blob_text = token[len(TOKEN_PREFIX) :].split(":", 1)
        blob = _unb64(blob_text)
    except ValueError:
        raise SecretUnreadable(context) from None
    key = _data_keys.get(key_id)
    if key is None:
        row = _row()
        if row is None:
            raise MasterPasswordNotSet()
        if row.key_id != key_id:
            raise SecretUnreadable(context)  # encrypted under a data key that a reset discarded
        key = _unlocked_key(row)
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], _associated_data(context, key_id)).decode("utf-8")
    except InvalidTag:
        raise SecretUnreadable(context) from None


_change_hooks: list[Callable[[], None]] = []


def on_master_password_change(hook: Callable[[], None]) -> Callable[[], None]:
    """Register ``hook()``, run after the master password changed or was reset (secrets kept outside
    the database follow the new wrapping)."""
    if hook not in _change_hooks:
        _change_hooks.append(hook)
    return hook


def _run_change_hooks() -> None:
    for hook in _change_hooks:
        hook()


# --- owners of secrets and the reset ------------------------------------------------------------

ResetHook = Callable[[object], None]
_reset_hooks: dict[str, list[ResetHook]] = {}


def on_reset(model_label: str) -> Callable[[ResetHook], ResetHook]:
    """Register ``hook(queryset)``, called with the ``model_label`` records whose secrets a reset
    erased — e.g. to mark repositories as needing new credentials."""

    def register(hook: ResetHook) -> ResetHook:
        _reset_hooks.setdefault(model_label, []).append(hook)
        return hook

    return register


def _secret_owners():
    """Every model with secret fields, with those fields: the owner of a secret is its row."""
    from hub.fields import SecretField

    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, SecretField)]
        if fields:
            yield model, fields


def _holding_secrets(model, fields):
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field.attname}__isnull": False})
    return model._default_manager.filter(condition)


def stored_secrets_by_owner() -> dict[str, int]:
    """How many records of each kind hold a secret: what a reset would erase. Keys are plural names."""
    counts = {}
    for model, fields in _secret_owners():
        count = _holding_secrets(model, fields).count()
        if count:
            counts[str(model._meta.verbose_name_plural)] = count
    return counts


def erase_all_secrets() -> dict[str, int]:
    erased = {}
    for model, fields in _secret_owners():
        pks = list(_holding_secrets(model, fields).values_list("pk", flat=True))
        if not pks:
            continue
        model._default_manager.filter(pk__in=pks).update(**{field.attname: None for field in fields})
        for hook in _reset_hooks.get(model._meta.label, ()):
            hook(model._default_manager.filter(pk__in=pks))
        erased[str(model._meta.verbose_name_plural)] = len(pks)
    return erased


# --- secrets kept outside the database (the operational database's password) --------------------


def seal_outside(plaintext: str, context: str) -> dict:
    """Encrypt ``plaintext`` for a file outside the database: the token plus a copy of the wrapped
    data key, so it can be unsealed before the database is reachable (with the master password
    file) — and the file alone reveals nothing."""
    row = _row()
    if row is None:
        raise MasterPasswordNotSet()
    token = encrypt(plaintext, context)
    return {"key_id": row.key_id, "kdf": row.kdf, "wrapped_key": row.wrapped_key, "token": token}


def unseal_outside(sealed: dict, context: str) -> str:
    """The plaintext of ``seal_outside``, unlocked from the master password file (no database)."""
    try:
        row = MasterKey(key_id=sealed["key_id"], kdf=sealed["kdf"], wrapped_key=sealed["wrapped_key"])
        token = sealed["token"]
    except (KeyError, TypeError):
        raise SecretUnreadable(context) from None
    if row.key_id not in _data_keys:
        _unlocked_key(row)
    return decrypt(token, context)


def rewrap_outside(sealed: dict) -> dict:
    """``sealed`` with the current wrapping of its data key (after the master password changed)."""
    row = _row()
    if row is None or row.key_id != sealed.get("key_id"):
        return sealed
    return {**sealed, "kdf": row.kdf, "wrapped_key": row.wrapped_key}
