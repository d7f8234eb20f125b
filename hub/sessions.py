"""Console sessions kept in the operational database under the SHA-256 of their key.

The cookie carries the session key; the table holds only its hash. Whoever can read the database
or its files (a backup, the SQLite file and its WAL, a replica) learns nothing to sign in with,
while sign-out, password changes and deactivated users still end sessions on the server — the
reasons Hub keeps sessions in the database rather than in signed cookies or a cache (see
docs/security.md, "Sessions").
"""

from __future__ import annotations

import hashlib

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import CreateError
from django.utils import timezone


def hashed(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


class SessionStore(db.SessionStore):
    """Django's database store, with every lookup and write by the hash of the key."""

    @classmethod
    def get_model_class(cls):
        from hub.models import HashedSession

        return HashedSession

    def _get_session_from_db(self):
        if not self.session_key:
            return None
        found = self.model.objects.filter(
            session_key=hashed(self.session_key), expire_date__gt=timezone.now()
        ).first()
        if found is None:
            self._session_key = None
        return found

    async def _aget_session_from_db(self):
        if not self.session_key:
            return None
        found = await self.model.objects.filter(
            session_key=hashed(self.session_key), expire_date__gt=timezone.now()
        ).afirst()
        if found is None:
            self._session_key = None
        return found

    def exists(self, session_key):
        return self.model.objects.filter(session_key=hashed(session_key)).exists()

    async def aexists(self, session_key):
        return await self.model.objects.filter(session_key=hashed(session_key)).aexists()

    def create_model_instance(self, data):
        return self.model(
            session_key=hashed(self._get_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=self.get_expiry_date(),
        )

    async def acreate_model_instance(self, data):
        return self.model(
            session_key=hashed(await self._aget_or_create_session_key()),
            session_data=self.encode(data),
            expire_date=await self.aget_expiry_date(),
        )

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key:
            self.model.objects.filter(session_key=hashed(session_key)).delete()

    async def adelete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key:
            await self.model.objects.filter(session_key=hashed(session_key)).adelete()


__all__ = ["CreateError", "SessionStore", "hashed"]
