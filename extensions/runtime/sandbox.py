"""The sandbox process: V8 contexts (mini-racer) in a child process of each Hub process.

V8 can end its whole process on some out-of-memory conditions ("Fatal JavaScript out of memory")
that no in-process limit catches, and a few builtins do not check for termination often. So
scripts never run inside a Hub worker: each worker starts one sandbox child on first use and
talks to it over a pipe, one newline-delimited JSON request at a time. When the child dies or
stops answering, the worker kills it, fails that call with 17011E and starts a new child; the
worker itself keeps running.

Run as ``python -m extensions.runtime.sandbox HEAP_BYTES``. The child has no database and no
network of its own: host calls come back to the worker as "pending" (see ``extensions.runtime``).
"""

from __future__ import annotations

import contextlib
import json
import queue
import sys
from pathlib import Path

PRELUDE = (Path(__file__).parent / "prelude.js").read_text(encoding="utf-8")
MAX_SCRIPTS = 200  # compiled scripts a context keeps before it is replaced by a fresh one


class Context:
    def __init__(self, heap: int):
        from py_mini_racer import MiniRacer

        self.racer = MiniRacer()
        self.racer.set_hard_memory_limit(heap)
        self.racer.eval(PRELUDE)
        self.loaded: set[str] = set()
        self._fast = _fast_eval(self.racer)

    def eval(self, code: str, timeout: float):
        """``code``'s value, stopped after ``timeout`` seconds.

        Why not ``MiniRacer.eval(code, timeout_sec=…)``: from a plain thread it hands every call to
        mini-racer's asyncio loop thread and back (four thread switches and a coroutine per call),
        which cost about 1 ms of CPU per call on this machine, five times the script itself. This
        process runs one call at a time and nothing else, so it starts the evaluation in V8 directly
        and waits on mini-racer's queue of uncancelable results (two switches); when the time limit
        passes it cancels the task, which terminates the script. These are mini-racer internals
        (0.12 to 0.14): where they are missing, the public call is used.
        """
        if self._fast is None:
            return self.racer.eval(code, timeout_sec=timeout)
        return self._fast(code, timeout)


def _fast_eval(racer):
    from py_mini_racer import JSTimeoutException
    from py_mini_racer._exc import JSEvalException

    try:
        from py_mini_racer._context import _UNCANCELABLE_TASK_CALLBACK_ID

        ctx = racer._ctx
        results, dll, raw_ctx = ctx._non_cancelable_mr_task_results_queue, ctx._dll, ctx._ctx
        to_handle, to_python = ctx._python_to_value_handle, ctx._value_handle_to_python
    except (ImportError, AttributeError):
        return None
    results.put = _pinning(results.put)

    def evaluate(code: str, timeout: float):
        handle = to_handle(code)
        task = dll.mr_eval(raw_ctx, handle.raw, _UNCANCELABLE_TASK_CALLBACK_ID)
        try:
            value = results.get(timeout=timeout)
        except queue.Empty:
            dll.mr_cancel_task(raw_ctx, task)
            value = results.get()  # the terminated script's answer: always comes
            with contextlib.suppress(JSEvalException):
                to_python(value)  # frees the handle; its termination exception is expected
            raise JSTimeoutException() from None
        return to_python(value)

    return evaluate


def _pinning(put_item):
    """``put_item`` that first gives the calling thread a Python thread state it keeps.

    V8 hands every result to Python through a ctypes callback on its own thread, which is not a
    Python thread: without a thread state of its own, each callback creates one and deletes it
    again (``PyGILState_Ensure``/``Release``), two thirds of the CPU of a small evaluation here
    (34 µs → 13 µs per ``eval("1")``, measured with /tmp-style loops, see docs/performance.md).
    One extra ``PyGILState_Ensure`` that is never released keeps the thread state alive; the
    callback still takes and gives back the GIL around its own work as before. Only this sandbox
    process does it, and each V8 thread is pinned once (a replaced context has a new thread).
    """
    import ctypes
    import threading

    pinned: set[int] = set()

    def put(item, *args, **kwargs):
        ident = threading.get_ident()
        if ident not in pinned:
            ctypes.pythonapi.PyGILState_Ensure()
            pinned.add(ident)
        put_item(item, *args, **kwargs)

    return put


def serve(heap: int) -> None:
    from py_mini_racer import JSOOMException, JSParseException, JSTimeoutException
    from py_mini_racer._exc import JSEvalException

    context = Context(heap)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b'{"ready": true}\n')  # V8 is up: from here on, time counts against scripts
    stdout.flush()
    for line in stdin:
        # A request is a JSON header, a tab, and the JavaScript to evaluate as it is: the code
        # (which carries the arguments) is not quoted into the header and parsed out again.
        header, _, code = line.rstrip(b"\n").partition(b"\t")
        request = json.loads(header)
        request["code"] = code.decode()
        try:
            missing = [i for i in request["ids"] if i not in context.loaded]
            if missing and "definitions" not in request:
                stdout.write(json.dumps({"need": missing}).encode() + b"\n")
                stdout.flush()
                continue
            if len(context.loaded) + len(missing) > MAX_SCRIPTS:
                context = Context(heap)
                missing = list(request["ids"])
            for script_id in missing:
                context.eval(request["definitions"][script_id], 5)
                context.loaded.add(script_id)
            raw = context.eval(request["code"], request["timeout"])
            # The entry points answer one line of JSON text (JSON.stringify never writes a line
            # break): sent as it is after "=", not quoted into another JSON document.
            stdout.write(b"=" + raw.encode() + b"\n")
            stdout.flush()
            continue
        except JSParseException as error:
            reply = {"syntax": str(error)}
        except JSTimeoutException:
            reply = {"limit": "time"}
            context = Context(heap)
        except JSOOMException:
            reply = {"limit": "memory"}
            context = Context(heap)
        except JSEvalException as error:
            reply = {"error": str(error)}
            context = Context(heap)
        stdout.write(json.dumps(reply).encode() + b"\n")
        stdout.flush()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
