"""Every page of the web intake, listed for the checks each one must pass.

tests/test_web_a11y.py opens each page of PAGES_FOR_CHECKS in Debian's headless chromium at 1280
and 320 px wide and requires: axe-core finds 0 violations, nothing needs horizontal scrolling at
320 px (WCAG 2.1 AA 1.4.10; wide tables scroll in their own container), no script, and a footer
link to the accessibility statement. It also requires that every GET route of the app is either
a page here or a path in NOT_PAGES, so that a new page cannot miss the checks.

An entry is (path, needs_login, description). A path may hold {placeholders}: the test makes a
value for each from real uploads (its `page_values` fixture; a new kind of placeholder gets its
maker there). needs_login: the page is opened by a logged-in RAR user.
"""

from __future__ import annotations

PAGES_FOR_CHECKS: tuple[tuple[str, bool, str], ...] = (
    ("/", False, "uppladdningssidan"),
    ("/kvitto/{receipt_received}", False, "kvitto för en rapport utan fel"),
    ("/kvitto/{receipt_has_errors}", False, "kvitto för en rapport med fel"),
    ("/kvitto/{receipt_refused}", False, "kvitto för en fil som inte togs emot"),
    ("/rar/login", False, "RAR:s inloggning"),
    ("/rar", True, "RAR:s sida med register"),
    ("/sidan-finns-inte", False, "meddelandesidan (404)"),
    ("/tillganglighet", False, "tillgänglighetsredogörelsen"),
)

# GET routes that answer with a file or JSON, not a page.
NOT_PAGES: tuple[str, ...] = (
    "/kvitto/{token}/kontrollkopia",
    "/api/uploads/{token}",
    "/rar/status.json",
)
