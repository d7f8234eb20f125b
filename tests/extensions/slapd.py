"""A real OpenLDAP server (Debian's ``slapd``) for the ``ldap`` host API tests: a throwaway
configuration in a temporary directory, a free loopback port, an mdb database with a few people.
It fails the tests that need it when it cannot start (it never skips them)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE = "dc=example,dc=org"
ADMIN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "ldap-admin-secret"
PEOPLE = [
    ("jsmith", "Smith", "John Smith", "john.smith@example.org"),
    ("mbrown", "Brown", "Mary Brown", "mary.brown@example.org"),
    ("o*brien", "O'Brien", "Pat (Paddy) O*Brien", "pat@example.org"),
]
SCHEMAS = ("core", "cosine", "inetorgperson")


@dataclass(frozen=True)
class Directory:
    """What a throwaway slapd holds: its suffix, the LDIF of its entries, the schema files it loads
    (Debian's by name, or paths), and more lines for the database section (limits, say)."""

    base: str
    ldif: str
    schemas: tuple[str, ...] = SCHEMAS
    database_lines: tuple[str, ...] = field(default=())


class SlapdStartError(RuntimeError):
    pass


@dataclass
class Slapd:
    url: str
    process: subprocess.Popen
    workdir: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ldif() -> str:
    entries = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n",
        f"dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n",
    ]
    for uid, sn, cn, mail in PEOPLE:
        entries.append(
            f"dn: uid={uid},ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: {uid}\nsn: {sn}\n"
            f"cn: {cn}\nmail: {mail}\n"
        )
    return "\n".join(entries)


def openldap() -> Directory:
    return Directory(BASE, _ldif())


def start(workdir: Path, timeout: float = 60, directory: Directory | None = None) -> Slapd:
    directory = directory or openldap()
    slapd = shutil.which("slapd") or "/usr/sbin/slapd"
    slapadd = shutil.which("slapadd") or "/usr/sbin/slapadd"
    if not Path(slapd).exists():
        raise SlapdStartError(
            "slapd is not installed: apt-get install slapd ldap-utils (deploy/system-packages.sh does it)"
        )
    data = workdir / "data"
    data.mkdir(parents=True)
    hashed = subprocess.run(
        ["/usr/sbin/slappasswd", "-s", ADMIN_PASSWORD], capture_output=True, text=True, check=True
    ).stdout.strip()
    includes = "\n".join(
        f"include {name if '/' in name else f'/etc/ldap/schema/{name}.schema'}" for name in directory.schemas
    )
    config = workdir / "slapd.conf"
    config.write_text(
        f"{includes}\n"
        f"pidfile {workdir}/slapd.pid\n"
        "moduleload back_mdb\n"
        "modulepath /usr/lib/ldap\n"
        "database mdb\n"
        f'suffix "{directory.base}"\n'
        f'rootdn "cn=admin,{directory.base}"\n'
        f"rootpw {hashed}\n"
        f"directory {data}\n"
        "maxsize 10485760\n"
        + "".join(f"{line}\n" for line in directory.database_lines)
    )
    ldif = workdir / "people.ldif"
    ldif.write_text(directory.ldif)
    added = subprocess.run([slapadd, "-f", str(config), "-l", str(ldif)], capture_output=True, text=True)
    if added.returncode != 0:
        raise SlapdStartError(f"slapadd failed: {added.stderr[-2000:]}")
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (workdir / "slapd.log").open("w")
    process = subprocess.Popen(
        [slapd, "-d", "0", "-f", str(config), "-h", url], stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SlapdStartError(f"slapd exited: {(workdir / 'slapd.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return Slapd(url, process, workdir)
        except OSError:
            time.sleep(0.1)  # polling for the port to open
    process.kill()
    raise SlapdStartError(f"slapd did not listen on {port} within {timeout:g} s")
