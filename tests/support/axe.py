"""axe-core (tests/vendor/, from npm) run in a Playwright page: the accessibility check of every screen.

The script goes in through ``page.evaluate`` (the DevTools protocol), not a <script> tag, so the
console's CSP, which forbids inline scripts, stays exactly as users get it.
"""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core-4.14.1" / "axe.min.js"
BLOCKING = ("serious", "critical")

RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""


def violations(page, impacts: tuple[str, ...] = BLOCKING) -> list[dict]:
    """The axe violations of the page as it is now, of the given impacts."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return [found for found in page.evaluate(RUN) if found["impact"] in impacts]


def describe(found: list[dict]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']} at {v['targets']}" for v in found)
