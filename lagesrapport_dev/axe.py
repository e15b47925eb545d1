"""axe-core and the reflow check in a page that Debian's chromium shows (browser.py).

axe-core is npm's package, pinned and installed into the checkout's .tools/ by
scripts/install-system-deps; nothing is fetched here. Its axe.min.js is injected into the page
through WebDriver (the pages' Content-Security-Policy allows no script of their own, and the
WebDriver's scripts are not subject to it) and `axe.run()` checks the document with axe's
default rules: WCAG 2.0, 2.1 and 2.2 A and AA, and best practices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from selenium import webdriver

ROOT = Path(__file__).resolve().parents[1]
AXE_PACKAGE = ROOT / ".tools" / "node_modules" / "axe-core"

_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document).then(
  (r) => done({version: axe.version, violations: r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")), html: v.nodes.map((n) => n.html)}))}),
  (e) => done({error: String(e)}));
"""

# Elements and text whose box reaches past the viewport's left or right edge, except inside a
# container that scrolls on its own (a wide data table may: WCAG 1.4.10 exempts it). Text is
# measured apart from its element: a long word can stick out of a box that fits.
_OVERFLOWING = """
const width = document.documentElement.clientWidth;
const scrolls = (e) => ["auto", "scroll"].includes(getComputedStyle(e).overflowX);
const inScroller = (e) => {
  for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) { if (scrolls(p)) return true; }
  return false;
};
const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
  + (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\\s+/).join(".") : "");
const out = [];
const outside = (r) => r.width > 0 && (r.right > width + 0.5 || r.left < -0.5);
for (const e of document.body.querySelectorAll("*")) {
  const r = e.getBoundingClientRect();
  if (outside(r) && !inScroller(e)) out.push(`${name(e)}: ${Math.round(r.left)}–${Math.round(r.right)} px`);
}
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let t = walker.nextNode(); t; t = walker.nextNode()) {
  const range = document.createRange();
  range.selectNodeContents(t);
  const r = range.getBoundingClientRect();
  if (t.textContent.trim() && outside(r) && !inScroller(t)) {
    out.push(`text in ${name(t.parentElement)} "${t.textContent.trim().slice(0, 40)}": ${Math.round(r.left)}–${Math.round(r.right)} px`);
  }
}
return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, overflowing: out};
"""


@dataclass(frozen=True)
class Violation:
    id: str
    impact: str
    help: str
    targets: tuple[str, ...]
    html: tuple[str, ...]

    def __str__(self) -> str:
        nodes = "\n".join(f"      {target}: {html}" for target, html in zip(self.targets, self.html))
        return f"  {self.id} ({self.impact}): {self.help}\n{nodes}"


@cache
def axe_source() -> str:
    script = AXE_PACKAGE / "axe.min.js"
    if not script.exists():
        raise RuntimeError(f"{script} is missing: scripts/install-system-deps installs npm's axe-core into .tools/")
    return script.read_text(encoding="utf-8")


def axe_version() -> str:
    return json.loads((AXE_PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]


def axe_violations(driver: webdriver.Chrome, timeout: float = 60) -> list[Violation]:
    """axe-core's violations in the page the driver shows now."""
    driver.execute_script(axe_source())
    driver.set_script_timeout(timeout)
    answer = driver.execute_async_script(_RUN)
    if "error" in answer:
        raise RuntimeError(f"axe.run failed: {answer['error']}")
    return [
        Violation(v["id"], v["impact"] or "", v["help"], tuple(v["targets"]), tuple(v["html"]))
        for v in answer["violations"]
    ]


def overflow(driver: webdriver.Chrome) -> dict:
    """The page's scroll width, the window's inner width, and every element that sticks out
    sideways (outside a container that scrolls by itself)."""
    return driver.execute_script(_OVERFLOWING)
