"""The web intake (`lagesrapport serve`): each insats submits its own report through its link and
sees its check and RAR's review; RAR sees who has reported, reviews, and downloads the master of
approved reports; every step is in the audit log.

Modules, each importable on its own: `settings` (what the server needs), `store` (the SQLite
schema), `names` (file names from browsers), `receipt` (what an upload is told), `intake`
(receiving one upload, without HTTP), `supersession` (which earlier upload a new one replaces),
`fallback` (the log row when storing or logging fails), `recovery` (the clean-up at start after
a crash), `keys` (the insatser's links), `auth` (password hashes,
sessions, CSRF tokens), `accounts` (staff accounts and roles), `audit` (the append-only log),
`review` (RAR's review states), `diff` (what changed between two versions), `overview` (RAR's page
as data), `insats` (one insats: its template, versions and reviews), `utskick` (the list of links),
`pages` (every page, for the page checks). `server`, `rar_routes` and `app` map HTTP onto them and
are the only modules that import the web framework. The HTTP client and the local server for the
demo and the tests are development tools (lagesrapport_dev.client, lagesrapport_dev.webflow). This
layer may import every layer below it but cli/; the package core never imports it, and it needs
the `web` extra.
"""
