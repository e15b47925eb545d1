"""Every page of the web intake, listed for the checks each one must pass.

tests/test_web_a11y.py opens each page of PAGES_FOR_CHECKS in Debian's headless chromium at 1280
and 320 px wide and requires: axe-core finds 0 violations, nothing needs horizontal scrolling at
320 px (WCAG 2.1 AA 1.4.10; wide tables scroll in their own container), no script, and a footer
link to the accessibility statement. It also requires that every GET route of the app is either
a page here or a path in NOT_PAGES, so that a new page cannot miss the checks. tests/test_web_pages.py
checks the same pages' structure on the test client (headings, labels, table captions).

An entry is (path, needs_login, description). A path may hold {placeholders}: the tests make a
value for each from real uploads (test_web_a11y's `site` fixture, with
lagesrapport_dev.webflow.prepare_pages for the link's pages: {key} an insats' link key, {insats}
its identity key, URL-encoded, {token} a receipt of an upload with errors through the link,
{receipt_limited} the receipt of an upload a limit stopped, which is also the page its 429 answer
shows; a new kind of placeholder gets its maker there). needs_login: the page is opened by a logged-in RAR
user of the role kansli (the review forms show only for kansli).
"""

from __future__ import annotations

PAGES_FOR_CHECKS: tuple[tuple[str, bool, str], ...] = (
    ("/", False, "Kontrollera din fil (den öppna sidan)"),
    ("/kvitto/{receipt_received}", False, "kvitto för en kontrollerad rapport utan fel"),
    ("/kvitto/{receipt_has_errors}", False, "kvitto för en kontrollerad rapport med fel"),
    ("/kvitto/{receipt_refused}", False, "kvitto för en fil som inte kunde kontrolleras"),
    ("/kvitto/{receipt_limited}", False, "kvitto för en uppladdning som en gräns stoppade: samma sida som svaret 429"),
    ("/insats/{key}", False, "insatsens egen sida (genom länken): mallen, uppladdningen, granskningen"),
    ("/insats/{key}/kvitto/{token}", False, "kvitto för en uppladdning genom länken, med fel"),
    ("/insats/fel-nyckel-som-inte-finns-123456", False, "en länk som inte gäller"),
    ("/rar/login", False, "RAR:s inloggning"),
    ("/rar", True, "RAR:s sida med register"),
    ("/rar?granskning=komplettering", True, "RAR:s sida, filtrerad på granskning"),
    ("/rar?sida=2", True, "RAR:s sida, tabellens andra del (test_web_a11y visar två rader i taget)"),
    ("/rar/insats?i={insats}", True, "en insats hos RAR: versioner, granskning, ändringar, länk och logg"),
    ("/rar/logg", True, "loggen"),
    ("/sidan-finns-inte", False, "meddelandesidan (404)"),
    ("/tillganglighet", False, "tillgänglighetsredogörelsen"),
)

# GET routes that answer with a file or JSON, not a page.
NOT_PAGES: tuple[str, ...] = (
    "/kvitto/{token}/kontrollkopia",
    "/api/uploads/{token}",
    "/rar/status.json",
    "/insats/{key}/mall",
    "/mall",
    "/rar/fil/{token}",
    "/rar/fil/{token}/kontrollkopia",
    "/rar/logg.csv",
    "/rar/logg.xlsx",
)
