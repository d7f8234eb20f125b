"""The JavaScript runtime: V8 through mini-racer, a pool of warm contexts per process, clean state
for every call, limits on time and heap, and synchronous host APIs by replay.

Replay (docs/extensions.md explains the choice): mini-racer's Python callbacks are asynchronous,
yet every host API the guide documents returns its value directly. A host call whose answer is
not known yet records itself and stops the script; Python computes the answer and runs the entry
point again from the start, now with that answer known. This is sound because an extension keeps
no state between calls (a documented rule Hub enforces) and the host APIs only read; a script
with n distinct host calls runs n + 1 times, each time a little further.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extensions.errors import ExtensionError, ExtensionFailed, HostFailed
from extensions.runtime import legacy
from hub.fields import MASK

logger = logging.getLogger("hub.extensions")
MAX_HOST_CALLS = 500  # distinct host calls in one invocation; more is a runaway script
WRAPPER_LINES = 1  # the script starts on line 2 of what V8 compiles


class HostError(Exception):
    """Raised by a host API implementation: becomes a JavaScript exception of ``name`` that the
    script may catch (NotFoundException, PersonNotFoundException…)."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name, self.message = name, message


Host = Callable[[str, list], Any]  # (api name, arguments) → JSON-able answer, or raises HostError


@dataclass
class HostCall:
    api: str
    args: list
    ms: float
    outcome: str  # "ok" or the exception's name: message

    def shown(self) -> str:
        return f"{self.api}({', '.join(json.dumps(a) for a in _masked(self.api, self.args))})"


def _masked(api: str, args: list) -> list:
    """Arguments as the test bench and logs show them: passwords hidden."""
    if api == "ldap.search" and args and isinstance(args[0], dict):
        return [{**args[0], "password": MASK}, *args[1:]]
    if api == "httpClient.send" and args and isinstance(args[0], dict) and args[0].get("proxy"):
        proxy = dict(args[0]["proxy"])
        if proxy.get("password"):
            proxy["password"] = MASK
        return [{**args[0], "proxy": proxy}]
    return args


@dataclass
class Result:
    value: Any = None
    undefined: bool = False
    logs: list[str] = field(default_factory=list)
    host_calls: list[HostCall] = field(default_factory=list)
    ms: float = 0.0
    runs: int = 0


@dataclass(frozen=True)
class Compiled:
    """A script ready to run: its id (digest of what V8 compiles) and how it was rewritten."""

    id: str
    source: str
    notice: str

    @classmethod
    def of(cls, script: str) -> Compiled:
        """The compiled form of ``script``, computed once per script text and process: the engine
        calls an extension by its stored text for every value it maps."""
        return _compiled(script)

    @classmethod
    def _make(cls, script: str) -> Compiled:
        rewritten = legacy.rewrite(script)
        digest = hashlib.sha256(rewritten.source.encode("utf-8")).hexdigest()[:32]
        return cls(digest, rewritten.source, rewritten.notice)

    def definition(self, exports: Sequence[str]) -> str:
        names = ", ".join(f"{json.dumps(n)}: (typeof {n} === 'undefined' ? undefined : {n})" for n in exports)
        return (
            f"__hub.define({json.dumps(self.id)}, function () {{\n{self.source}\n;return {{{names}}};\n}});"
        )


@functools.lru_cache(maxsize=512)
def _compiled(script: str) -> Compiled:
    return Compiled._make(script)


# The names a script may define that Hub looks up (entry points and declarations of every type).
EXPORTS = (
    "transform",
    "inputTypes",
    "outputTypes",
    "transformPayload",
    "mapPersonFromRepository",
    "mapPersonToRepository",
    "transitionArtifact",
)


def limits() -> tuple[float, int]:
    """(time limit in seconds, heap limit in bytes) from hub.properties."""
    from django.conf import settings

    config = settings.HUB
    return float(config["hub.extensions.timeLimit"]), int(config["hub.extensions.heapLimit"]) * 1024 * 1024


class Sandbox:
    """The sandbox child of this process (``extensions.runtime.sandbox``) and the pipe to it. One
    call at a time; a child that dies or stops answering is killed and replaced, and only the call
    it was running fails."""

    GRACE = 3.0  # seconds beyond the time limit before an unanswering child is killed
    STARTUP = 60.0  # seconds a new child may take to start V8 (a loaded machine is slow)

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._owner = 0
        self._heap = 0

    def _start(self, heap: int) -> subprocess.Popen:
        process = self._process
        mine = process is not None and self._owner == os.getpid()
        if mine and self._heap == heap and process.poll() is None:
            return process
        if process is not None and self._owner == os.getpid():
            self._kill()
        process = subprocess.Popen(  # our own module, by the interpreter running Hub
            [sys.executable, "-m", "extensions.runtime.sandbox", str(heap)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # V8's own crash report; the failure is reported by us
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        ready, _, _ = select.select([process.stdout], [], [], self.STARTUP)
        if not ready or not process.stdout.readline():
            process.kill()
            process.wait(timeout=10)
            raise ExtensionFailed("Hub could not start its JavaScript sandbox (see hub.log).")
        self._process, self._owner, self._heap = process, os.getpid(), heap
        return process

    def ensure(self, heap: int) -> None:
        """Start the child now (outside any script's time), if it is not running."""
        with self._lock:
            self._start(heap)

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.kill()
            process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def close(self) -> None:
        with self._lock:
            if self._owner == os.getpid():
                self._kill()

    def busy(self) -> bool:
        return self._lock.locked()

    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def request(self, compiled: Compiled | Sequence[Compiled], code: str, timeout: float, heap: int) -> dict:
        scripts = {c.id: c for c in ([compiled] if isinstance(compiled, Compiled) else compiled)}
        with self._lock:
            process = self._start(heap)
            header: dict[str, Any] = {"ids": list(scripts), "timeout": timeout}
            # The code goes after the header as it is (see sandbox.serve): no second JSON quoting
            # of arguments that are JSON text already. JSON never writes a raw tab or line break.
            body = b"\t" + code.encode() + b"\n"
            reply = self._exchange(process, json.dumps(header).encode() + body, timeout)
            if "need" in reply:  # a new child, or a script it has not seen: send only those
                header["definitions"] = {i: scripts[i].definition(EXPORTS) for i in reply["need"]}
                reply = self._exchange(process, json.dumps(header).encode() + body, timeout + 5)
            return reply

    def _exchange(self, process: subprocess.Popen, message: bytes, timeout: float) -> dict:
        try:
            process.stdin.write(message)
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            self._kill()
            return {"died": True}
        ready, _, _ = select.select([process.stdout], [], [], timeout + self.GRACE)
        if not ready:
            self._kill()
            return {"limit": "time"}
        line = process.stdout.readline()
        if not line:
            self._kill()
            return {"died": True}
        if line.startswith(b"="):  # an entry point's JSON answer, as the sandbox wrote it
            return {"out": line[1:].decode()}
        return json.loads(line)


SANDBOX = Sandbox()
atexit.register(SANDBOX.close)


def _run(
    compiled: Compiled | Sequence[Compiled], code: str, timeout: float, heap: int, time_limit: float
) -> str:
    """What the sandbox answered for ``code``, or the failure it stands for."""
    reply = SANDBOX.request(compiled, code, timeout, heap)
    if "out" in reply:
        return reply["out"]
    if "syntax" in reply:
        raise _syntax_error(reply["syntax"])
    if reply.get("limit") == "time":
        raise _limit_failure("time", time_limit)
    if reply.get("limit") == "memory" or reply.get("died"):
        raise _limit_failure("memory", time_limit)
    raise ExtensionFailed(f"The script failed: {_first_line(reply.get('error', ''))}")


def _syntax_error(text: str) -> ExtensionFailed:
    first = text.splitlines()[0] if text else "SyntaxError"
    line = None
    head, _, message = first.partition(": ")
    if head.startswith("<anonymous>:"):
        try:
            line = int(head.split(":")[1]) - WRAPPER_LINES
        except ValueError:
            line = None
    else:
        message = first
    where = f" (line {line})" if line else ""
    return ExtensionFailed(f"The script cannot be compiled{where}: {message}", line=line)


def compile_check(script: str, names: Sequence[str] = EXPORTS) -> tuple[Compiled, dict[str, Any]]:
    """Compile ``script`` and read its declarations (``names``) without calling any function.
    Raises ExtensionFailed with the line of a syntax error, or of an error the top level throws."""
    time_limit, heap = limits()
    compiled = Compiled.of(script)
    code = f"__hub.declarations({json.dumps(compiled.id)}, {json.dumps(list(names))})"
    try:
        raw = _run(compiled, code, time_limit, heap, time_limit)
    except ExtensionFailed as error:
        if error.line is not None or "limit" in error.message or "memory" in error.message:
            raise
        raise ExtensionFailed(f"The script fails when it is loaded: {error.message}") from None
    return compiled, json.loads(raw)


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    head, _, rest = lines[0].partition(": ")
    return rest if head.startswith("<anonymous>") and rest else lines[0]


def _limit_failure(kind: str, time_limit: float) -> ExtensionFailed:
    if kind == "time":
        return ExtensionFailed(
            f"The script ran longer than its time limit of {time_limit:g} s and was stopped."
        )
    return ExtensionFailed(
        "The script used more memory than its heap limit allows (or stopped the JavaScript engine) "
        "and was stopped."
    )


def invoke(
    script: str | Compiled,
    entry: str,
    args: Sequence[Any],
    host: Host | None = None,
    *,
    answers: dict[str, dict] | None = None,
    time_limit: float | None = None,
) -> Result:
    """Run ``entry(*args)`` of the script with fresh state; host calls answered by ``host``.

    ``answers`` may carry answers known from earlier invocations of the same processing (Hub data,
    not script state). Raises ExtensionFailed (17011E) for a throw, a syntax error, a runaway, or a
    missing entry point; HostFailed when a host API failed outside the script's reach.
    """
    limit, heap = limits()
    time_limit = time_limit or limit
    compiled = script if isinstance(script, Compiled) else Compiled.of(script)
    answers = {} if answers is None else answers
    result = Result()
    SANDBOX.ensure(heap)
    started = time.perf_counter()
    deadline = started + time_limit
    # The arguments are encoded once per invocation, however often a host call replays it.
    args_text = json.dumps(json.dumps(list(args), default=str))
    head = f"__hub.run({json.dumps(compiled.id)}, {json.dumps(entry)}, {args_text}, "
    try:
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise _limit_failure("time", time_limit)
            result.runs += 1
            code = head + (f"{json.dumps(json.dumps(answers))})" if answers else '"{}")')
            out = json.loads(_run(compiled, code, remaining, heap, time_limit))
            if _settle(out, entry, host, answers, result):
                return result
            deadline += result.host_calls[-1].ms / 1000  # waiting for a host is not the script's time
    finally:
        result.ms = (time.perf_counter() - started) * 1000


def _settle(out: dict, entry: str, host: Host | None, answers: dict, result: Result) -> bool:
    """Take one run's answer into ``result``: True when the call is over, False when it asked a
    host call, now answered in ``answers``, and must run again. Raises what the script did wrong."""
    result.logs = out["logs"]
    if out["pending"] is not None:
        if len(answers) >= MAX_HOST_CALLS:
            raise ExtensionFailed(f"The script made more than {MAX_HOST_CALLS} host calls.")
        api, call_args = json.loads(out["pending"])
        answers[out["pending"]] = _answer(api, call_args, host, result)
        return False
    if out["missing"]:
        raise ExtensionFailed(f"The script defines no function {entry}().")
    if out["error"] is not None:
        raise _thrown(out["error"])
    result.undefined = bool(out.get("undefined"))
    result.value = None if result.undefined else out.get("result")
    return True


@dataclass
class Call:
    """One entry-point call of a batch (``invoke_many``)."""

    script: str | Compiled
    entry: str
    args: Sequence[Any]
    host: Host | None = None
    # Values the batch encodes once for all its calls and puts into each call's first argument
    # (a dict) under these keys: the artifacts every line of one artifact sees. Each call still
    # gets copies of its own; keys holding the same object get the same copy within a call.
    shared: Mapping[str, Any] | None = None

    def merged_args(self) -> list:
        """The arguments with ``shared`` put in, for a call run on its own."""
        if not self.shared:
            return list(self.args)
        return [{**self.args[0], **self.shared}, *self.args[1:]]


# json.dumps(value, default=str) without making an encoder for every value (a batch encodes many)
_ENCODE = json.JSONEncoder(default=str).encode


def invoke_many(
    calls: Sequence[Call], *, alone_on_failure: bool = True, batch_limit: float | None = None
) -> list[Result | ExtensionError]:
    """Several calls in one sandbox round trip (plus one per host call asked), each with the
    state of a call of its own: the engine maps all the extension lines of one direction of an
    artifact this way, and ``transformations.ahead`` the lines of many artifacts.

    Each answer is the call's Result, or the ExtensionError it failed with. When the round trip
    as a whole fails (a runaway, a dead sandbox, a syntax error), the calls still open run one
    by one through ``invoke``, so the failure is the failing call's alone (``alone_on_failure``
    False: they fail with the batch's error instead). ``batch_limit``: the time the whole round
    trip may take (default: the time limit of one call for each call).
    """
    if len(calls) == 1 and alone_on_failure:
        return [_one(calls[0])]
    limit, heap = limits()
    compiled = [c.script if isinstance(c.script, Compiled) else Compiled.of(c.script) for c in calls]
    answers: list[dict] = [{} for _ in calls]
    results: list[Result | ExtensionError | None] = [Result() for _ in calls]
    open_ = list(range(len(calls)))
    SANDBOX.ensure(heap)
    started = time.perf_counter()
    args_json = [_ENCODE(list(c.args)) for c in calls]
    texts: dict[str, str] = {}  # script ids, entry points and shared keys: each encoded once

    def text(value: str) -> str:
        if value not in texts:
            texts[value] = json.dumps(value)
        return texts[value]

    shared_texts: list[str] = []  # each shared value encoded once for the whole batch
    shared_index: dict[int, int] = {}
    heads, shared_refs = [], []
    for n, call in enumerate(calls):
        refs = []
        for key, value in (call.shared or {}).items():
            if id(value) not in shared_index:
                shared_index[id(value)] = len(shared_texts)
                shared_texts.append(_ENCODE(value))
            refs.append(f"[{text(key)},{shared_index[id(value)]}]")
        heads.append(f"[{text(compiled[n].id)},{text(call.entry)},{args_json[n]},")
        shared_refs.append("[" + ",".join(refs) + "]")
    # The shared values go as a JavaScript array of JSON texts (each call parses its own copies),
    # not as one more JSON text of that array: one escaping less of the largest part of the code.
    shared_js = "[" + ",".join(json.dumps(t) for t in shared_texts) + "]"
    while open_:
        batch = ",".join(
            f"{heads[i]}{json.dumps(answers[i]) if answers[i] else '{}'},{shared_refs[i]}]" for i in open_
        )
        code = f"__hub.runMany({json.dumps('[' + batch + ']')}, {shared_js})"
        timeout = batch_limit or limit * len(open_)
        try:
            outs = json.loads(_run([compiled[i] for i in open_], code, timeout, heap, limit))
        except ExtensionError as error:
            for i in open_:
                results[i] = _one(calls[i], answers[i]) if alone_on_failure else error
            break
        still_open = []
        for i, out in zip(open_, outs, strict=True):
            result = results[i]
            result.runs += 1
            try:
                if not _settle(out, calls[i].entry, calls[i].host, answers[i], result):
                    still_open.append(i)
            except ExtensionError as error:
                results[i] = error
        open_ = still_open
    elapsed = (time.perf_counter() - started) * 1000
    for result in results:
        if isinstance(result, Result):
            result.ms = elapsed
    return results


def _one(call: Call, answers: dict | None = None) -> Result | ExtensionError:
    try:
        return invoke(call.script, call.entry, call.merged_args(), call.host, answers=answers)
    except ExtensionError as error:
        return error


def _thrown(error: dict) -> ExtensionFailed:
    line = error.get("line")
    line = line - WRAPPER_LINES if isinstance(line, int) and line > WRAPPER_LINES else None
    name = error.get("name") or ""
    message = error.get("message") or "(no message)"
    shown = message if name in ("", "Error") else f"{name}: {message}"
    where = f" (line {line})" if line else ""
    return ExtensionFailed(f"The script threw an error{where}: {shown}", line=line)


def _answer(api: str, args: list, host: Host | None, result: Result) -> dict:
    started = time.perf_counter()
    call = HostCall(api, args, 0.0, "ok")
    result.host_calls.append(call)
    try:
        if host is None:
            raise HostError("HostException", f"{api} is not available here.")
        value = host(api, args)
        return {"value": None if value is None else json.dumps(value, default=str)}
    except HostError as error:
        call.outcome = f"{error.name}: {error.message}"
        return {"error": {"name": error.name, "message": error.message}}
    except ExtensionError as error:
        call.outcome = f"{error.code}: {error.message}"
        raise
    finally:
        call.ms = (time.perf_counter() - started) * 1000


def log_lines(result: Result, *, extension: str, integration: str = "", artifact: str = "") -> None:
    """``console.log`` output into logs/extensions.log, each line naming where it came from."""
    for line in result.logs:
        logger.info("[%s] [%s] [%s] %s", extension, integration or "-", artifact or "-", line)


__all__ = [
    "Compiled",
    "HostCall",
    "HostError",
    "Call",
    "HostFailed",
    "SANDBOX",
    "Result",
    "compile_check",
    "invoke",
    "invoke_many",
    "log_lines",
]
