"""Nashorn's ``for each (var x in xs)``, which the documentation's own examples use and V8 rejects,
rewritten to ``for (var x of __hubEach(xs))`` before compiling. ``__hubEach`` gives the values of
an array or of a plain object, as Nashorn iterated them.

The scanner skips strings, template literals, comments and regular-expression literals, so a
``for each`` inside them is left alone; line breaks are kept, so error lines stay right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FOR_EACH = re.compile(r"\bfor\s+each\s*\(")
# A "/" starts a regular expression after these (otherwise it divides).
REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {""}


@dataclass
class Rewritten:
    source: str
    count: int

    @property
    def notice(self) -> str:
        if not self.count:
            return ""
        loops = "loop" if self.count == 1 else "loops"
        return (
            f"Hub rewrote {self.count} legacy “for each (… in …)” {loops} to “for (… of …)”, "
            "which V8 runs; the saved script is unchanged."
        )


def _code_positions(source: str) -> list[bool]:
    """For each character: True where it is code (not inside a string, comment or regex)."""
    code = [True] * len(source)
    i, n, last = 0, len(source), ""
    while i < n:
        c = source[i]
        two = source[i : i + 2]
        if two == "//":
            j = source.find("\n", i)
            j = n if j < 0 else j
            code[i:j] = [False] * (j - i)
            i = j
            continue
        if two == "/*":
            j = source.find("*/", i + 2)
            j = n if j < 0 else j + 2
            code[i:j] = [False] * (j - i)
            i = j
            continue
        if c in "'\"`" or (c == "/" and last in REGEX_AFTER):
            quote = c
            j = i + 1
            in_class = False
            while j < n:
                if source[j] == "\\":
                    j += 2
                    continue
                if quote == "/" and source[j] == "[":
                    in_class = True
                elif quote == "/" and source[j] == "]":
                    in_class = False
                elif source[j] == quote and not in_class or source[j] == "\n" and quote != "`":
                    break
                j += 1
            j = min(n, j + 1)
            code[i:j] = [False] * (j - i)
            i, last = j, "x"
            continue
        if not c.isspace():
            last = c if not (c.isalnum() or c in "_$") else "x"
            if last == "x" and source[max(0, i - 6) : i + 1].endswith(("return", "typeof")):
                last = ""
        i += 1
    return code


def rewrite(source: str) -> Rewritten:
    code = _code_positions(source)
    out, position, count = [], 0, 0
    for match in FOR_EACH.finditer(source):
        start = match.start()
        if start < position or not code[start]:
            continue
        open_paren = match.end() - 1
        depth, i, split = 0, open_paren, None
        while i < len(source):
            if code[i]:
                if source[i] == "(":
                    depth += 1
                elif source[i] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                elif depth == 1 and split is None and source.startswith("in", i):
                    before = source[i - 1] if i else " "
                    after = source[i + 2] if i + 2 < len(source) else " "
                    if not (before.isalnum() or before in "_$") and not (after.isalnum() or after in "_$"):
                        split = i
            i += 1
        if split is None or i >= len(source):
            continue  # not a loop header we understand: V8 reports it
        head = source[open_paren + 1 : split].rstrip()
        tail = source[split + 2 : i].strip()
        out.append(source[position:start])
        out.append(f"for ({head} of __hubEach({tail}))")
        position = i + 1
        count += 1
    out.append(source[position:])
    return Rewritten("".join(out), count)
