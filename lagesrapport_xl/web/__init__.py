"""The web intake (`lagesrapport serve`): coordinators upload a report and see its check at once;
RAR sees who has reported and downloads the master workbook.

Layers, each importable on its own: `settings` (what the server needs), `store` (the SQLite log),
`intake` (receiving one upload, without HTTP), `auth` (password hashes, sessions, CSRF tokens),
`overview` (RAR's page as data), `app` (the Starlette application; the only module that imports
the web framework). The HTTP client and the local server for the demo and the tests are
development tools (lagesrapport_dev.client). This layer may import every layer below it but cli/;
the package core never imports it, and it needs the `web` extra.
"""
