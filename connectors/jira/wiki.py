"""Jira wiki markup (Data Center / Server rich text, REST v2) ↔ HTML, Hub's rich-text format.

The conversion is pandoc's: its ``jira`` reader and writer are maintained with pandoc itself and
cover the whole notation (headings, lists, tables, ``{code}``/``{noformat}``, quotes, links,
effects and their escapes). Pandoc ships as a binary inside the ``pypandoc-binary`` wheel, so it
installs from PyPI like any other dependency. The libraries written in Python each do one half
(``jira2markdown`` reads wiki markup into Markdown; ``html-to-jira`` writes wiki markup but drops
the spaces between inline elements and escapes nothing), and chaining two of them loses more than
either.

A conversion starts one pandoc process (about 15 ms of CPU), so results are kept in a bounded
in-process cache: a poll that reads unchanged issues converts nothing again.

Comments: Hub keeps comment bodies as text. ``to_text`` renders markup as plain text, and
``from_text`` writes text so that Jira shows it literally (``*`` and ``{`` are escaped, lines stay
lines).
"""

from __future__ import annotations

import functools
import html
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

from connectors.errors import Transient

TIMEOUT = 20.0  # seconds for one conversion; a large description takes well under one
CACHE_SIZE = 4096
HTML_IN = "html-auto_identifiers"  # no {anchor:…} on every heading Hub writes
PLAIN_PARAGRAPH = re.compile(r"<p>([^<>]*)</p>")
# pandoc reads every list item and table cell as a paragraph of its own
TIGHT_CELL = re.compile(r"<(li|th|td)><p>((?:(?!</?p>).)*)</p></\1>")
VERBATIM = re.compile(r"(\{(?:code|noformat)[^}]*\}.*?\{(?:code|noformat)\})", re.DOTALL)
UNREAD_ESCAPE = re.compile(r"\\([+^~|])")
HREF = re.compile(r"""(href=["'])([^"']*)(["'])""", re.IGNORECASE)
EMPTY_ANCHOR = re.compile(r"\{anchor:\}")  # pandoc writes one on a heading without an id
# HTML → markup: the text between tags, and the <pre> blocks whose text is verbatim ({noformat})
TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
PRE_OPEN = re.compile(r"<pre[\s>]", re.IGNORECASE)
PRE_CLOSE = re.compile(r"</pre\s*>", re.IGNORECASE)
# Characters of text that wiki markup could read as syntax: effects, tables, links, images, macros,
# citations, lists and quotes at a line start, entities and escapes. Each passes pandoc as a token
# of letters and digits (which it writes as is) and comes out escaped.
SYNTAX = re.compile(r"[-*_+^~|!{}\[\]?#&\\]|(?<![A-Za-z0-9])[hb](?=[1-6]\.|q\.)")
TOKEN = re.compile(r"hubwikiesc([0-9a-f]+)x")
# A line of words (letters, digits, sentence punctuation) between single spaces: no notation
# reads anything in it but text, so it needs no pandoc (``plain_blocks``)
PLAIN_WORD = r"""(?:[^\W_]|[.,;'"])+"""
PLAIN_LINE = re.compile(rf"(?!h[1-6]\.|bq\.){PLAIN_WORD}(?: {PLAIN_WORD})*")


class ConversionFailed(Transient):
    """Pandoc could not convert a text (it is missing or refused the input)."""


@functools.cache
def pandoc() -> str:
    """The pandoc binary of the ``pypandoc-binary`` wheel, else one on ``PATH``."""
    try:
        import pypandoc

        bundled = Path(pypandoc.__file__).parent / "files" / "pandoc"
        if bundled.is_file():
            return str(bundled)
    except ImportError:  # pragma: no cover - a dependency of Hub
        pass
    found = shutil.which("pandoc")
    if not found:
        raise ConversionFailed("Jira wiki markup needs pandoc (package pypandoc-binary), which is missing.")
    return found


@functools.lru_cache(maxsize=CACHE_SIZE)
def convert(text: str, source: str, target: str) -> str:
    if not text.strip():
        return ""
    try:
        done = subprocess.run(
            [pandoc(), "--from", source, "--to", target, "--wrap=none", "--syntax-highlighting=none"],
            input=text.encode(),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ConversionFailed(f"pandoc could not convert {source} to {target}: {error}") from None
    if done.returncode:
        detail = done.stderr.decode(errors="replace").strip()[:300]
        raise ConversionFailed(f"pandoc could not convert {source} to {target}: {detail}")
    return done.stdout.decode().strip()


def plain_blocks(text: str) -> list[list[str]] | None:
    """The paragraphs (blank-line separated) of their lines when every line of ``text`` is plain
    (``PLAIN_LINE``) or empty, else None. Most descriptions and comments are such text; converting
    them without pandoc gives what pandoc gives (a Hypothesis test compares both), and an initial
    sync then starts pandoc only for text that has markup (docs/performance.md)."""
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if not line:
            if blocks[-1]:
                blocks.append([])
        elif PLAIN_LINE.fullmatch(line) and not SYNTAX.search(line):
            # SYNTAX: "word h1." is text to Jira's reader, but the HTML → markup direction escapes
            # a heading-like word anywhere (shielded), so such a line takes pandoc's path
            blocks[-1].append(line)
        else:
            return None
    return [block for block in blocks if block]


def readable(markup: str) -> str:
    """Jira takes a backslash before any markup character as an escape; pandoc's reader undoes only
    some of them (it keeps ``\\+``, ``\\^``, ``\\~`` and ``\\|``, which its own writer makes). Those
    become character references, which it reads — except inside ``{code}`` and ``{noformat}``,
    where a backslash is a backslash."""
    parts = VERBATIM.split(markup)
    for index in range(0, len(parts), 2):  # the odd ones are the verbatim blocks split() kept
        parts[index] = UNREAD_ESCAPE.sub(lambda m: f"&#{ord(m.group(1))};", parts[index])
    return "".join(parts)


def to_html(markup: str | None) -> str:
    """HTML; paragraphs of unformatted text read back as the text they were written from (lines),
    as Jira Cloud's ADF does, so plain text written through Hub comes back unchanged."""
    blocks = plain_blocks(markup or "")
    if blocks is not None:
        if all(len(block) == 1 for block in blocks):
            return "\n".join(block[0] for block in blocks)
        return "\n".join("<p>" + "<br />\n".join(block) + "</p>" for block in blocks)
    converted = TIGHT_CELL.sub(r"<\1>\2</\1>", convert(readable(markup or ""), "jira", "html"))
    paragraphs = PLAIN_PARAGRAPH.findall(converted)
    if paragraphs and PLAIN_PARAGRAPH.sub("", converted).strip() == "":
        lines = [html.unescape(p) for p in paragraphs]
        if not any("<" in line for line in lines):
            return "\n".join(lines)
    return converted


def from_html(text: str | None) -> str:
    """Wiki markup for HTML; a value without any tag is text, a paragraph per line. The text of the
    HTML stays text: whatever in it looks like markup is escaped (see ``shielded``)."""
    text = text or ""
    if "<" not in text:
        blocks = plain_blocks(text.strip("\n"))  # a paragraph per line, no syntax to escape
        if blocks is not None:
            return "\n\n".join(line for block in blocks for line in block)
        text = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
    written = convert(shielded(HREF.sub(ascii_href, text)), HTML_IN, "jira")
    return EMPTY_ANCHOR.sub("", TOKEN.sub(escaped_character, written))


def shielded(source: str) -> str:
    """The HTML with each syntax character of its text (outside ``<pre>``, which is written as
    ``{noformat}``) replaced by a token. pandoc's writer escapes most of them, but not an effect
    character it judges cannot open or close (``<-0 0-<``), nor ``#``, ``h1.``, ``bq.`` or ``|`` at
    the start of a line, and Jira (like pandoc's reader) then reads them as markup (Hypothesis)."""
    parts = TAG_OR_TEXT.split(source)
    verbatim = 0
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            verbatim += bool(PRE_OPEN.match(part)) - bool(PRE_CLOSE.match(part))
            verbatim = max(verbatim, 0)
        elif part and not verbatim:
            plain = SYNTAX.sub(lambda m: f"hubwikiesc{ord(m.group()):x}x", html.unescape(part))
            parts[index] = html.escape(plain, quote=False)
    return "".join(parts)


def escaped_character(match: re.Match) -> str:
    """How markup writes a character of text literally: a backslash escape for the effect and
    structure characters, a character reference where a backslash is not read as one (a line
    start's ``#``, ``h`` or ``b``; ``&`` before an entity; a backslash itself)."""
    character = chr(int(match.group(1), 16))
    if character in "#hb":
        return f"&#{ord(character)};"
    return {"&": "&amp;", "\\": "&bsol;"}.get(character, "\\" + character)


def ascii_href(match: re.Match) -> str:
    """pandoc's reader does not take ``[text|url]`` as a link when the URL has a non-ASCII
    character; the same URL percent-encoded (as a browser sends it) is read."""
    return match.group(1) + "".join(c if c.isascii() else quote(c) for c in match.group(2)) + match.group(3)


def to_text(markup: str | None) -> str:
    blocks = plain_blocks(markup or "")
    if blocks is not None:
        return "\n\n".join("\n".join(block) for block in blocks)
    return convert(readable(markup or ""), "jira", "plain")


def text_as_html(text: str) -> str:
    """Text as HTML that shows it literally: a paragraph per blank-line block, a break per line."""
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join("<p>" + html.escape(b.strip("\n")).replace("\n", "<br>") + "</p>" for b in blocks)


def from_text(text: str | None) -> str:
    """Markup that Jira shows as ``text``: the text as HTML paragraphs and breaks, whose every
    syntax character ``from_html`` escapes (Hypothesis found what pandoc's writer alone leaves:
    ``<-0 0-<``, a ``|`` or ``#`` at a line start, ``0\\.``)."""
    blocks = plain_blocks((text or "").replace("\r\n", "\n"))
    if blocks is not None:
        return "\n\n".join("\n".join(block) for block in blocks)
    return from_html(text_as_html(text or ""))
