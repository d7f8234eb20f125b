"""Atlassian Document Format (Jira Cloud's rich text, REST v3) ↔ HTML, Hub's rich-text format.

No maintained library converts both ways (the ones on PyPI build ADF or convert Markdown), so this
is a small converter over the node types Jira's editor makes for text: paragraphs, headings,
lists, code blocks, quotes, rules, hard breaks, and the marks strong, em, code, strike, underline
and link. HTML is read with the standard library's parser and written escaped. A node it does not
know keeps its text (a mention its name, an emoji its short name), so nothing a person wrote is
dropped, only formatting Hub cannot show.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

MARK_TAGS = {"strong": "strong", "em": "em", "code": "code", "strike": "s", "underline": "u"}
TAG_MARKS = {
    "strong": "strong",
    "b": "strong",
    "em": "em",
    "i": "em",
    "code": "code",
    "s": "strike",
    "del": "strike",
    "strike": "strike",
    "u": "underline",
}
BLOCKS = {
    "p": "paragraph",
    "blockquote": "blockquote",
    "pre": "codeBlock",
    "ul": "bulletList",
    "ol": "orderedList",
    "li": "listItem",
}


def to_html(document) -> str:
    if not document:
        return ""
    if isinstance(document, str):  # a v2 answer, or text someone stored as is
        return document
    blocks = document.get("content", [])
    if all(_plain(block) for block in blocks):
        # Paragraphs of unformatted text read back as the text they were written from (lines), so
        # plain text written through Hub comes back unchanged.
        return "\n".join("".join(n.get("text", "") for n in b.get("content", [])) for b in blocks)
    return "".join(_node(node) for node in blocks)


def _plain(block: dict) -> bool:
    return block.get("type") == "paragraph" and all(
        n.get("type") == "text" and not n.get("marks") and "<" not in n.get("text", "")
        for n in block.get("content", [])
    )


def to_text(document) -> str:
    """The text of a document, one line per block (comments: Hub keeps comment bodies as text)."""
    if not document:
        return ""
    if isinstance(document, str):
        return document
    lines: list[str] = []

    def walk(node: dict, line: list[str]) -> None:
        kind = node.get("type")
        if kind == "text":
            line.append(node.get("text", ""))
        elif kind == "hardBreak":
            line.append("\n")
        elif kind in ("mention", "emoji"):
            line.append(
                (node.get("attrs") or {}).get("text") or (node.get("attrs") or {}).get("shortName", "")
            )
        for child in node.get("content", []):
            walk(child, line)

    for block in document.get("content", []):
        if block.get("type") in ("bulletList", "orderedList"):
            for item in block.get("content", []):
                line: list[str] = []
                walk(item, line)
                lines.append("- " + "".join(line))
            continue
        line = []
        walk(block, line)
        lines.append("".join(line))
    return "\n".join(lines)


def _node(node: dict) -> str:
    kind, content = node.get("type"), node.get("content", [])
    inner = "".join(_node(child) for child in content)
    if kind == "text":
        return _marked(html.escape(node.get("text", "")), node.get("marks", []))
    if kind == "paragraph":
        return f"<p>{inner}</p>"
    if kind == "heading":
        level = min(6, max(1, int((node.get("attrs") or {}).get("level", 1))))
        return f"<h{level}>{inner}</h{level}>"
    if kind == "bulletList":
        return f"<ul>{inner}</ul>"
    if kind == "orderedList":
        return f"<ol>{inner}</ol>"
    if kind == "listItem":
        return f"<li>{inner}</li>"
    if kind == "codeBlock":
        text = "".join(child.get("text", "") for child in content)
        return f"<pre><code>{html.escape(text)}</code></pre>"
    if kind == "blockquote":
        return f"<blockquote>{inner}</blockquote>"
    if kind == "hardBreak":
        return "<br>"
    if kind == "rule":
        return "<hr>"
    if kind == "mention":
        return html.escape((node.get("attrs") or {}).get("text", ""))
    if kind == "emoji":
        return html.escape((node.get("attrs") or {}).get("shortName", ""))
    if kind == "inlineCard":
        url = (node.get("attrs") or {}).get("url", "")
        return f'<a href="{html.escape(url)}">{html.escape(url)}</a>'
    return inner  # tables, panels, media …: their text


def _marked(text: str, marks: list[dict]) -> str:
    for mark in marks:
        kind = mark.get("type")
        if kind == "link":
            href = html.escape((mark.get("attrs") or {}).get("href", ""))
            text = f'<a href="{href}">{text}</a>'
        elif kind in MARK_TAGS:
            tag = MARK_TAGS[kind]
            text = f"<{tag}>{text}</{tag}>"
    return text


def from_html(text: str) -> dict:
    """An ADF document for HTML (plain text without tags becomes paragraphs, one per line)."""
    if "<" not in (text or ""):
        lines = [line for line in (text or "").split("\n") if line.strip()]
        return {"type": "doc", "version": 1, "content": [_paragraph([_text(line, [])]) for line in lines]}
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return {"type": "doc", "version": 1, "content": builder.finish()}


def _text(text: str, marks: list[dict]) -> dict:
    node = {"type": "text", "text": text}
    if marks:
        node["marks"] = [dict(m) for m in marks]
    return node


def _paragraph(content: list[dict]) -> dict:
    return {"type": "paragraph", "content": content}


class _Builder(HTMLParser):
    """HTML → ADF blocks: a stack of open blocks; inline text collects in the innermost one."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root: list[dict] = []
        self.stack: list[dict] = []  # open block nodes
        self.marks: list[dict] = []
        self.in_pre = False

    def _container(self) -> list[dict]:
        return self.stack[-1]["content"] if self.stack else self.root

    def _inline_target(self) -> list[dict]:
        """Where text goes: the open block, or a paragraph opened for it (in a list item or at the
        top level, ADF wants text inside a paragraph)."""
        top = self.stack[-1] if self.stack else None
        if top is not None and top["type"] in ("paragraph", "heading", "codeBlock"):
            return top["content"]
        container = self._container()
        if not container or container[-1].get("type") != "paragraph" or container[-1].get("_closed"):
            container.append(_paragraph([]))
        return container[-1]["content"]

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in TAG_MARKS:
            self.marks.append({"type": TAG_MARKS[tag]})
        elif tag == "a":
            self.marks.append({"type": "link", "attrs": {"href": attributes.get("href") or ""}})
        elif tag == "br":
            self._inline_target().append({"type": "hardBreak"})
        elif tag == "hr":
            self._close_paragraph()
            self._container().append({"type": "rule"})
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._open({"type": "heading", "attrs": {"level": int(tag[1])}, "content": []})
        elif tag in BLOCKS:
            if tag == "pre":
                self.in_pre = True
            self._open({"type": BLOCKS[tag], "content": []})

    def _close_paragraph(self) -> None:
        container = self._container()
        if container and container[-1].get("type") == "paragraph":
            container[-1]["_closed"] = True

    def _open(self, node: dict) -> None:
        self._close_paragraph()
        self._container().append(node)
        self.stack.append(node)

    def handle_endtag(self, tag):
        if tag in TAG_MARKS or tag == "a":
            if self.marks:
                self.marks.pop()
            return
        kind = {
            "h1": "heading",
            "h2": "heading",
            "h3": "heading",
            "h4": "heading",
            "h5": "heading",
            "h6": "heading",
        }.get(tag) or BLOCKS.get(tag)
        if kind is None:
            return
        if tag == "pre":
            self.in_pre = False
        while self.stack:
            node = self.stack.pop()
            if node["type"] == kind:
                break
        self._close_paragraph()

    def handle_data(self, data):
        if not self.in_pre:
            data = re.sub(r"\s+", " ", data) if data.strip() else ("" if "\n" in data else data)
        if not data:
            return
        marks = [] if self.in_pre else list(self.marks)
        self._inline_target().append(_text(data, marks))

    def finish(self) -> list[dict]:
        return _clean(self.root)


def _clean(nodes: list[dict]) -> list[dict]:
    cleaned = []
    for node in nodes:
        node.pop("_closed", None)
        if "content" in node:
            node["content"] = _clean(node["content"])
            if node["type"] == "paragraph" and not node["content"]:
                continue
        cleaned.append(node)
    return cleaned
