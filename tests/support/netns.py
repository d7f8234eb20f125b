"""Separate hosts on one machine: a network namespace per host, joined to this one by a veth pair on
a private /30 (10.231.N.0/30, this side .1, the host's side .2), for the scale-out tests and bench.

A process started in a host reaches the machine's services only over its veth, as a worker on
another machine reaches PostgreSQL and the broker over the network. The services keep listening on
127.0.0.1 alone: a small TCP forwarder on this side of each veth (``Forwarder``, listening on
10.231.N.1) relays to them, so nothing of the machine's configuration changes (no
``listen_addresses``, ``pg_hba`` or Redis ``bind``), and RabbitMQ's ``guest`` account, which it
admits from loopback only, works unchanged. Cutting a host's link (``Host.cut``) takes the veth
down: the host's connections stall as across a broken network, and resume when it comes back.

Needs root (``ip netns add``), as CI runs. Everything made here is removed by ``Hosts.close`` —
the namespaces (which takes their veth ends and kills nothing: kill the processes first, see
``Host.kill_all``) and the forwarder's sockets — and ``Hosts`` is a context manager, so a failing
test tears down too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

SUBNET = "10.231"
# Held while a test process picks its octets and makes its veth pairs: two tests (xdist workers,
# another checkout's run, the bench) choosing at the same moment would otherwise both see an octet
# free, and the loser's clean-up would delete the winner's veth — cutting a host nobody meant to.
ALLOCATION_LOCK = "/run/hub-netns.lock"


def ip(*arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *arguments], capture_output=True, text=True, check=check, timeout=30)


def netns_available() -> bool:
    """Whether this machine lets us make namespaces (root and iproute2)."""
    try:
        return os.geteuid() == 0 and ip("netns", "list", check=False).returncode == 0
    except FileNotFoundError:
        return False


def _used_octets() -> set[int]:
    found = re.findall(rf"inet {re.escape(SUBNET)}\.(\d+)\.", ip("-4", "addr", check=False).stdout)
    return {int(octet) for octet in found}


def _used_interfaces() -> set[int]:
    """Octets whose veth name exists already, addressed yet or not (one being made right now)."""
    return {int(octet) for octet in re.findall(r"hsc(\d+)o", ip("link", check=False).stdout)}


class Forwarder:
    """TCP relays from ``(listen address, port)`` to a port on 127.0.0.1, on an asyncio loop of its
    own thread. ``listen(address, target_port)`` returns the port it listens on there."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.servers: list[asyncio.base_events.Server] = []
        self.tasks: set[asyncio.Task] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, name="netns-forwarder", daemon=True)
        self.thread.start()

    def listen(self, address: str, target_port: int) -> int:
        async def relay(reader, writer):
            task = asyncio.current_task()
            self.tasks.add(task)
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
            except OSError:
                writer.close()
                return
            try:
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            finally:
                self.tasks.discard(task)
                for each in (writer, up_writer):
                    each.close()

        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(OSError, RuntimeError):
                    writer.close()

        async def serve():
            server = await asyncio.start_server(relay, address, 0)
            self.servers.append(server)
            return server.sockets[0].getsockname()[1]

        return asyncio.run_coroutine_threadsafe(serve(), self.loop).result(30)

    def close(self) -> None:
        async def shut():
            for server in self.servers:
                server.close()
            for task in list(self.tasks):
                task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shut(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@dataclass
class Host:
    """One namespace: ``name``, its veth (``outside`` here, ``inside`` there) and addresses."""

    name: str
    octet: int
    forwarder: Forwarder
    processes: list[subprocess.Popen] = field(default_factory=list)
    created: bool = False  # whether the veth pair is ours (only then does ``remove`` delete it)

    @property
    def outside(self) -> str:  # interface names: at most 15 characters
        return f"hsc{self.octet}o"

    @property
    def inside(self) -> str:
        return f"hsc{self.octet}i"

    @property
    def gateway(self) -> str:
        """This side's address: where the host reaches the machine's services."""
        return f"{SUBNET}.{self.octet}.1"

    @property
    def address(self) -> str:
        return f"{SUBNET}.{self.octet}.2"

    def create(self) -> None:
        ip("netns", "add", self.name)
        ip("link", "add", self.outside, "type", "veth", "peer", "name", self.inside)
        self.created = True
        ip("link", "set", self.inside, "netns", self.name)
        ip("addr", "add", f"{self.gateway}/30", "dev", self.outside)
        ip("link", "set", self.outside, "up")
        inside = ("netns", "exec", self.name, "ip")
        ip(*inside, "addr", "add", f"{self.address}/30", "dev", self.inside)
        ip(*inside, "link", "set", self.inside, "up")
        ip(*inside, "link", "set", "lo", "up")

    def service(self, port: int) -> tuple[str, int]:
        """Where, seen from this host, the machine's service on 127.0.0.1:``port`` answers."""
        return self.gateway, self.forwarder.listen(self.gateway, port)

    def url(self, url: str) -> str:
        """``url`` (``scheme://…@127.0.0.1:PORT/…``) as this host reaches it."""
        match = re.search(r"(127\.0\.0\.1|localhost):(\d+)", url)
        assert match, f"no 127.0.0.1:PORT in {url}"
        host, port = self.service(int(match.group(2)))
        return url[: match.start()] + f"{host}:{port}" + url[match.end() :]

    def popen(self, argv: list[str], **kwargs) -> subprocess.Popen:
        """Start ``argv`` in this host (``ip netns exec`` execs it: the pid is the program's)."""
        process = subprocess.Popen(["ip", "netns", "exec", self.name, *argv], **kwargs)
        self.processes.append(process)
        return process

    def pids(self) -> list[int]:
        return [int(p) for p in ip("netns", "pids", self.name, check=False).stdout.split()]

    def kill_all(self) -> int:
        """kill -9 every process of this host (a prefork worker's pool too); how many there were."""
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
        deadline = time.monotonic() + 10
        while self.pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        return len(pids)

    def cut(self) -> None:
        """The host's link down: its packets go nowhere until ``mend``."""
        ip("link", "set", self.outside, "down")

    def mend(self) -> None:
        ip("link", "set", self.outside, "up")

    def remove(self) -> None:
        self.kill_all()
        ip("netns", "delete", self.name, check=False)  # takes the veth pair with it
        if self.created:
            ip("link", "delete", self.outside, check=False)


class Hosts:
    """``count`` hosts made at once; ``with Hosts(3) as hosts: hosts[0].popen(...)``."""

    def __init__(self, count: int):
        self.forwarder = Forwarder()
        self.hosts: list[Host] = []
        try:
            with open(ALLOCATION_LOCK, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
                used = _used_octets() | _used_interfaces()
                free = (n for n in range(1, 255) if n not in used)
                for n in range(count):
                    octet = next(free)
                    host = Host(f"hub-sc-{os.getpid()}-{n + 1}", octet, self.forwarder)
                    self.hosts.append(host)
                    host.create()
        except BaseException:
            self.close()
            raise

    def __getitem__(self, index: int) -> Host:
        return self.hosts[index]

    def __iter__(self):
        return iter(self.hosts)

    def __len__(self) -> int:
        return len(self.hosts)

    def __enter__(self) -> Hosts:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for host in self.hosts:
            host.remove()
        self.forwarder.close()
