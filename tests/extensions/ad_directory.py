"""An Active Directory look-alike for the ``ldap`` host API tests: a throwaway slapd (tests/extensions/
slapd.py) with AD's attribute and class names (tests/extensions/ad.schema), AD's layout
(``CN=Users,DC=corp,DC=example,DC=com``), binary ``objectGUID`` / ``objectSid`` values, ``memberOf``
on the users, a service account to bind as, and AD's default limit of 1,000 entries per search
answer (MaxPageSize) for everyone but slapd's root, with paged searches allowed past it, as AD does.

What it is not: Active Directory. See docs/extensions.md ("LDAP and Active Directory") for what this
shows and what it cannot."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

from tests.extensions import slapd

BASE = "DC=corp,DC=example,DC=com"
USERS = f"CN=Users,{BASE}"
SERVICE = f"CN=Hub Service,{USERS}"
SERVICE_PASSWORD = "Hub-Service-2026"
PERSON_CATEGORY = f"CN=Person,CN=Schema,CN=Configuration,{BASE}"
GROUPS = (f"CN=Developers,{USERS}", f"CN=Hub Users,{USERS}")
JOHN_GUID = uuid.UUID("5f2c1a4e-8b3d-4c6f-9a1e-2d7b8c9e0f13")
# S-1-5-21-2127521184-1604012920-1887927527-1105, in AD's binary layout.
JOHN_SID = bytes.fromhex("010500000000000515000000a065cf7e784b9b5fe77c877051040000")
BULK = 1100  # ordinary users beyond the named ones: more than AD answers in one page
SCHEMA = Path(__file__).with_name("ad.schema")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _user(cn: str, sn: str, account: str, **more: str | list[str]) -> str:
    lines = [
        f"dn: CN={cn},{USERS}",
        "objectClass: user",
        f"cn: {cn}",
        f"sn: {sn}",
        f"sAMAccountName: {account}",
        f"userPrincipalName: {account}@corp.example.com",
        f"objectCategory: {PERSON_CATEGORY}",
        "userAccountControl: 512",
    ]
    for name, values in more.items():
        for value in values if isinstance(values, list) else [values]:
            lines.append(f"{name}: {value}")
    return "\n".join(lines) + "\n"


def ldif() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: corp\no: Corp\n",
        f"dn: {USERS}\nobjectClass: container\ncn: Users\n",
        _user("Hub Service", "Service", "hub-svc", userPassword=SERVICE_PASSWORD),
        _user(
            "John Smith",
            "Smith",
            "jsmith",
            givenName="John",
            displayName="John Smith",
            mail="john.smith@example.com",
            memberOf=list(GROUPS),
            **{"objectGUID:": _b64(JOHN_GUID.bytes_le), "objectSid:": _b64(JOHN_SID)},
        ),
        _user("Mary Brown", "Brown", "mbrown", displayName="Mary Brown", mail="mary.brown@example.com"),
    ]
    for group in GROUPS:
        name = group.split(",")[0][3:]
        entries.append(
            f"dn: {group}\nobjectClass: group\ncn: {name}\ngroupType: -2147483646\n"
            f"member: CN=John Smith,{USERS}\n"
        )
    entries += [_user(f"User {n:04d}", f"User{n:04d}", f"user{n:04d}") for n in range(BULK)]
    return "\n".join(entries)


def directory() -> slapd.Directory:
    return slapd.Directory(
        BASE,
        ldif(),
        schemas=(*slapd.SCHEMAS, str(SCHEMA)),
        # AD's MaxPageSize: 1,000 entries per answer; a paged search may go on past them.
        database_lines=("limits users size.soft=1000 size.hard=1000 size.prtotal=unlimited",),
    )
