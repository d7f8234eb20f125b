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

import json
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


def serve(heap: int) -> None:
    from py_mini_racer import JSOOMException, JSParseException, JSTimeoutException
    from py_mini_racer._exc import JSEvalException

    context = Context(heap)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b'{"ready": true}\n')  # V8 is up: from here on, time counts against scripts
    stdout.flush()
    for line in stdin:
        request = json.loads(line)
        try:
            if request["id"] not in context.loaded:
                if "definition" not in request:
                    reply = {"need": "definition"}
                    stdout.write(json.dumps(reply).encode() + b"\n")
                    stdout.flush()
                    continue
                if len(context.loaded) >= MAX_SCRIPTS:
                    context = Context(heap)
                context.racer.eval(request["definition"], timeout_sec=5)
                context.loaded.add(request["id"])
            raw = context.racer.eval(request["code"], timeout_sec=request["timeout"])
            reply = {"out": raw}
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
