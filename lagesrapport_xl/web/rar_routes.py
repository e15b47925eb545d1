"""RAR's pages: login, who has reported, each insats with its versions and review, links and the
utskick list, the master, file downloads and the audit log.

Every page needs a logged-in staff account (accounts.py). Both roles read everything and download
the master, files and the log; only *kansli* reviews, issues and revokes links and writes the
utskick list. Every step that matters is written to the audit log (audit.py). The inbox's path is
never shown: files are offered by their receipt's token.

Routes:
  GET  /rar/login, POST /rar/login, POST /rar/logout
  GET  /rar                     the insatser, filtered by review (?granskning=) and state (?status=), a part at a time (?sida=)
  GET  /rar/status.json         the same as JSON
  GET  /rar/insats?i=KEY        one insats: versions, review, changes, link, its log
  POST /rar/granskning          a review change (kansli)
  POST /rar/lank, /rar/lank/aterkalla   a new link for an insats, or its revocation (kansli)
  POST /rar/utskick             new links and the utskick list as a zip of .xlsx and .csv (kansli)
  POST /rar/sammanstallning     the master with the files it counts, as a zip (urval=godkanda: only
                                approved reports)
  POST /rar/styrelserapport     the board report, a PDF (urval=godkanda: only approved reports)
  GET  /rar/fil/{token}, /rar/fil/{token}/kontrollkopia   a stored file and its annotated copy
  GET  /rar/logg, /rar/logg.csv, /rar/logg.xlsx   the audit log (?i=KEY: of one insats)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..consolidate.receipts import Review
from ..consolidate.statuses import Coverage
from . import accounts, audit, keys, review
from .auth import new_token
from .board_download import write_board_pdf
from .insats import find, template_plan, versions
from .limits import Attempt, Refusal, account_key
from .overview import FILE_COUNT_LABELS, Overview, build_overview, kept_overview, write_master_workbook
from .paging import MAX_UNMATCHED_SHOWN, RowPage
from .priority import paced_download
from .server import SESSION_COOKIE, XLSX, Web
from .utskick import UtskickError, issue_links, zip_bytes

REVIEW_FILTERS = {"ny": Review.NEW, "godkand": Review.APPROVED, "komplettering": Review.SUPPLEMENT}
STATE_FILTERS = {"inkommen": Coverage.RECEIVED, "avvisade": Coverage.REJECTED, "saknas": Coverage.MISSING}
REVIEW_CHOICES = {review.name.lower(): review for review in Review}
BACK = {"back": "/rar", "back_text": "Till RAR:s sida"}
NOT_KANSLI = "Det här får bara kansliet göra (granska, skicka länkar). Ditt konto har rollen ekonomi."
EXPIRED = "Sidan hade gått ut. Ladda om den och försök igen."
AUDIT_PAGE_ROWS = 500
MAX_WAITING_CHECKS = 32  # logins waiting for a password check; more are told to try again shortly
BUSY = Refusal("login_busy", "Ett annat inloggningsförsök för samma konto pågår, eller servern har många "
               "inloggningar just nu. Försök igen om några sekunder.", 5)
T = TypeVar("T")


class PasswordChecks:
    """Password checks (scrypt: 16 MB and ~50 ms each) one at a time per account and at most
    `at_once` in the whole server, in worker threads of their own limiter: a burst of logins can
    neither fill the memory nor take the threads that uploads are read in. A login that finds its
    account's check running, or too many waiting, is refused (BUSY) without a check."""

    def __init__(self, at_once: int):
        self.limiter = anyio.CapacityLimiter(at_once)
        self.running: set[str] = set()  # accounts being checked (one event loop: no lock needed)
        self.waiting = 0

    async def run(self, account: str, check: Callable[[], T]) -> T | Refusal:
        if account in self.running or self.waiting >= MAX_WAITING_CHECKS:
            return BUSY
        self.running.add(account)
        self.waiting += 1
        try:
            return await anyio.to_thread.run_sync(check, limiter=self.limiter)
        finally:
            self.running.discard(account)
            self.waiting -= 1


class RarPages:
    def __init__(self, web: Web):
        self.web = web
        self.store = web.store
        self.settings = web.settings
        self.checks = PasswordChecks(web.settings.guard.password_checks_at_once)

    def routes(self, small: list[Middleware]) -> list[Route]:
        return [
            Route("/rar", self.overview),
            Route("/rar/status.json", self.status),
            Route("/rar/login", self.login_page, methods=["GET"]),
            Route("/rar/login", self.login, methods=["POST"], middleware=small),
            Route("/rar/logout", self.logout, methods=["POST"], middleware=small),
            Route("/rar/insats", self.insats),
            Route("/rar/granskning", self.review, methods=["POST"], middleware=small),
            Route("/rar/lank", self.new_link, methods=["POST"], middleware=small),
            Route("/rar/lank/aterkalla", self.revoke_link, methods=["POST"], middleware=small),
            Route("/rar/utskick", self.utskick, methods=["POST"], middleware=small),
            Route("/rar/sammanstallning", self.master, methods=["POST"], middleware=small),
            Route("/rar/styrelserapport", self.board_report, methods=["POST"], middleware=small),
            Route("/rar/fil/{token}", self.download),
            Route("/rar/fil/{token}/kontrollkopia", self.download_copy),
            Route("/rar/logg", self.audit_page),
            Route("/rar/logg.csv", self.audit_csv),
            Route("/rar/logg.xlsx", self.audit_xlsx),
        ]

    # --- access ------------------------------------------------------------------------------------

    def _login_page(self, request: Request, status: int = 200, message: str = "") -> Response:
        closed = not accounts.any_login(self.store, self.settings.password_hash)
        return self.web.page(request, "login.html", status, message=message, closed=closed)

    async def login_page(self, request: Request) -> Response:
        if self.web.user(request):
            return self.web.redirect(request, "/rar")
        return self._login_page(request)

    async def login(self, request: Request) -> Response:
        """A login: counted (limits.LoginGuard) before its password is checked, the check bounded
        (PasswordChecks); a refusal is 429 with Retry-After and no check at all."""
        client = self.web.client(request) or "?"
        form = await self.web.small_form(request)
        if form is None or not self.web.csrf_ok(request, form):
            return self._login_page(request, 403, "Sidan hade gått ut. Skriv lösenordet igen.")
        if not accounts.any_login(self.store, self.settings.password_hash):
            return self._login_page(request, 403)
        name, password = _field(form, "username").strip(), _field(form, "password")
        attempt = await run_in_threadpool(self.web.logins.begin, name, client)
        if isinstance(attempt, Refusal):
            return self.web.retry_after(self._login_page(request, 429, attempt.message), attempt)
        check = partial(accounts.authenticate, self.store, name, password, self.settings.password_hash)
        user = await self.checks.run(account_key(name), check)
        if isinstance(user, Refusal):
            return self.web.retry_after(self._login_page(request, 429, user.message), user)
        if user is None:
            audit.log(self.store, "login_failed", user_name=name[:64] or None, client=client)
            await asyncio.sleep(self.settings.login_delay)
            return self._login_page(request, 401, "Fel användarnamn eller lösenord. Försök igen.")
        return self._logged_in(request, user, attempt)

    def _logged_in(self, request: Request, user: accounts.User, attempt: Attempt) -> Response:
        self.web.logins.succeeded(attempt)
        audit.log(self.store, "login", user_name=user.name, client=attempt.client, detail=f"roll: {user.role.value}")
        response = self.web.redirect(request, "/rar")
        self.web.set_cookie(request, response, SESSION_COOKIE, self.web.sessions.start(user.name, user.role.value),
                            int(self.settings.session_hours * 3600))
        return response

    async def _post(self, request: Request, *, kansli: bool = False) -> tuple[Response | None, FormData | None]:
        """(None, the form) when a logged-in page sent it (and, with `kansli`, the account may);
        otherwise (the answer to send, None)."""
        user = self.web.user(request)
        if user is None:
            return self.web.redirect(request, "/rar/login"), None
        form = await self.web.small_form(request)
        if form is None or not self.web.csrf_ok(request, form):
            return self.web.message(request, 403, EXPIRED, **BACK), None
        if kansli and not user.role.may_review:
            return self.web.message(request, 403, NOT_KANSLI, **BACK), None
        return None, form

    async def logout(self, request: Request) -> Response:
        refused, _form = await self._post(request)
        if refused is not None:
            return refused
        audit.log(self.store, "logout", user_name=request.state.user.name, client=self.web.client(request))
        self.web.sessions.end(request.cookies.get(SESSION_COOKIE))
        response = self.web.redirect(request, "/rar/login")
        response.delete_cookie(SESSION_COOKIE, path=self.web.base(request) or "/")
        return response

    # --- who has reported --------------------------------------------------------------------------

    async def _overview(self) -> Overview:
        """The overview, after the uploads under way (priority.py: RAR waits, coordinators do not);
        if they still keep coming, the last one built when it is at most `good_for` old."""
        uploads, intake = self.web.uploads_first, self.web.intake
        await uploads.wait_for_uploads()  # first, always: an answer at once would only be asked for again
        kept = kept_overview(intake, uploads.good_for) if uploads.in_flight else None
        return kept if kept is not None else await run_in_threadpool(build_overview, intake)

    async def overview(self, request: Request) -> Response:
        if not self.web.user(request):
            return self.web.redirect(request, "/rar/login")
        overview = await self._overview()
        chosen = {key: request.query_params.get(key, "") for key in ("granskning", "status")}
        wanted_review, wanted_state = REVIEW_FILTERS.get(chosen["granskning"]), STATE_FILTERS.get(chosen["status"])
        rows = [row for row in overview.rows
                if (wanted_review is None or row.review is wanted_review)
                and (wanted_state is None or row.state is wanted_state)]
        part = RowPage.of(rows, request.query_params.get("sida", ""), {k: v for k, v in chosen.items() if v},
                          self.settings.rows_per_page)
        register = self.settings.register
        return self.web.page(
            request, "rar.html", o=overview, rows=part.rows, part=part, register_name=register.name if register else "",
            file_labels=FILE_COUNT_LABELS, files=self.web.file_links.for_rows(part.rows, overview),
            review_filters=REVIEW_FILTERS, state_filters=STATE_FILTERS, chosen_review=chosen["granskning"],
            chosen_state=chosen["status"], unmatched=overview.unmatched[:MAX_UNMATCHED_SHOWN],
        )

    async def status(self, request: Request) -> Response:
        if not self.web.user(request):
            return JSONResponse({"error": "Logga in på /rar/login först."}, status_code=401)
        overview = await self._overview()
        return Response(overview.json_bytes, media_type="application/json")

    async def insats(self, request: Request) -> Response:
        user = self.web.user(request)
        if not user:
            return self.web.redirect(request, "/rar/login")
        key = request.query_params.get("i", "")
        found = await run_in_threadpool(find, self.web.intake, key)
        if found is None:
            return self.web.message(request, 404, "Insatsen finns inte i registret och har ingen länk.", **BACK)
        insats, row = found
        overview = await self._overview()
        shown = await run_in_threadpool(versions, self.web.intake, insats, overview, with_changes=True)
        plan = await run_in_threadpool(template_plan, self.web.intake, insats, row) if row else None
        link = keys.active_keys(self.store).get(insats.key)
        refused = [r for r in self.web.intake.uploads_of(insats.key) if r.outcome.value == "refused"]
        questions = [(f.key, f"{f.sheet}!{f.cell} – {f.label}") for f in self.settings.spec.fields.values()]
        return self.web.page(
            request, "rar_insats.html", insats=insats, row=row, versions=shown, plan=plan, link=link,
            refused=refused, questions=questions, reviews=REVIEW_CHOICES, issued=None,
            log=audit.rows(self.store, insats=insats.key, limit=AUDIT_PAGE_ROWS),
            when_ns=lambda ns: dt.datetime.fromtimestamp(ns / 1e9),
        )

    # --- the kansli's actions ------------------------------------------------------------------------

    async def review(self, request: Request) -> Response:
        refused, form = await self._post(request, kansli=True)
        if refused is not None:
            return refused
        key, token = _field(form, "i"), _field(form, "kvitto")
        state = REVIEW_CHOICES.get(_field(form, "granskning"))
        receipt = self.web.intake.receipt(token)
        found = find(self.web.intake, key)
        mine = found is not None and self.web.intake.insats_of(token) == found[0].key
        if not mine or receipt is None or receipt.stored_name is None or state is None:
            return self.web.message(request, 400, "Granskningen gick inte att spara: välj ett läge och försök igen.",
                                    **BACK)
        insats = found[0]
        try:
            chosen = review.pointers(self.settings.spec, [v for v in form.getlist("fragor") if isinstance(v, str)])
            review.save(self.store, sha256=receipt.sha256 or "", stored_name=receipt.stored_name, insats=insats.key,
                        insats_title=insats.title, report_number=receipt.report_number, state=state,
                        comment=_field(form, "kommentar"), chosen=chosen, user=request.state.user.name)
        except review.ReviewError as exc:
            return self.web.message(request, 400, str(exc), back=_insats_path(insats),
                                    back_text="Tillbaka till insatsen", title="Granskningen sparades inte")
        return self.web.redirect(request, _insats_path(insats))

    async def new_link(self, request: Request) -> Response:
        """A new link for the insats (its old one revoked), shown once."""
        return await self._link_action(request, revoke=False)

    async def revoke_link(self, request: Request) -> Response:
        return await self._link_action(request, revoke=True)

    async def _link_action(self, request: Request, *, revoke: bool) -> Response:
        refused, form = await self._post(request, kansli=True)
        if refused is not None:
            return refused
        found = find(self.web.intake, _field(form, "i"))
        if found is None:
            return self.web.message(request, 404, "Insatsen finns inte.", **BACK)
        insats, user = found[0], request.state.user.name
        if revoke:
            keys.revoke(self.store, insats, user)
            return self.web.redirect(request, _insats_path(insats))
        secret, _key_id = keys.issue(self.store, insats, user)
        link = f"{_site(request, self.web)}/insats/{secret}"
        return self.web.page(request, "link.html", insats=insats, link=link, back=_insats_path(insats))

    async def utskick(self, request: Request) -> Response:
        refused, form = await self._post(request, kansli=True)
        if refused is not None:
            return refused
        only_new = _field(form, "urval") == "nya"
        try:
            rows = await run_in_threadpool(issue_links, self.web.intake, _site(request, self.web),
                                           request.state.user.name, only_new=only_new)
        except UtskickError as exc:
            return self.web.message(request, 404, str(exc), title="Ingen utskickslista", **BACK)
        stem = f"utskick_{dt.datetime.now():%Y%m%d-%H%M%S}"
        content = await run_in_threadpool(zip_bytes, rows, self.settings.state / "tmp", stem)
        return Response(content, media_type="application/zip",
                        headers={"content-disposition": f'attachment; filename="{stem}.zip"'})

    # --- downloads -----------------------------------------------------------------------------------

    async def master(self, request: Request) -> Response:
        refused, form = await self._post(request)
        if refused is not None:
            return refused
        approved_only = _field(form, "urval") == "godkanda"
        await self.web.uploads_first.wait_for_uploads()
        path = await run_in_threadpool(write_master_workbook, self.web.intake, approved_only=approved_only)
        if path is None:
            return self.web.message(request, 404, "Inkorgen är tom: det finns inget att sammanställa.",
                                    title="Ingen sammanställning", **BACK)
        audit.log(self.store, "master", user_name=request.state.user.name, client=self.web.client(request),
                  detail=("bara godkända rapporter" if approved_only else "alla rapporter") + f"; {path.name}")
        return paced_download(path, "application/zip", self.web.uploads_first)

    async def board_report(self, request: Request) -> Response:
        refused, form = await self._post(request)
        if refused is not None:
            return refused
        approved_only = _field(form, "urval") != "alla"
        await self.web.uploads_first.wait_for_uploads()
        path = await run_in_threadpool(write_board_pdf, self.web.intake, approved_only=approved_only)
        if path is None:
            return self.web.message(request, 404, "Inkorgen är tom: det finns inget att skriva en styrelserapport om.",
                                    title="Ingen styrelserapport", **BACK)
        audit.log(self.store, "board_report", user_name=request.state.user.name, client=self.web.client(request),
                  detail=("bara godkända rapporter" if approved_only else "alla rapporter") + f"; {path.name}")
        return paced_download(path, "application/pdf", self.web.uploads_first)

    async def download(self, request: Request) -> Response:
        """A stored file, under the name it was sent with."""
        return await self._download(request, copy=False)

    async def download_copy(self, request: Request) -> Response:
        """A stored file's annotated copy."""
        return await self._download(request, copy=True)

    async def _download(self, request: Request, *, copy: bool) -> Response:
        if not self.web.user(request):
            return self.web.redirect(request, "/rar/login")
        token = request.path_params["token"]
        receipt = self.web.intake.receipt(token)
        if copy:
            path = self.web.intake.annotated_copy(token)
            found = (path, path.name) if path is not None else None
        else:
            found = self.web.intake.stored_file(token)
        if found is None or receipt is None:
            return self.web.message(request, 404, "Filen finns inte (längre) hos RAR.", **BACK)
        path, name = found
        audit.log(self.store, "download", user_name=request.state.user.name, client=self.web.client(request),
                  insats=self.web.intake.insats_of(token), insats_title=receipt.insats, sha256=receipt.sha256,
                  detail=f"{'kontrollkopia' if copy else 'fil'}: {name}")
        return FileResponse(path, media_type=XLSX, filename=name)

    # --- the audit log -------------------------------------------------------------------------------

    def _log_of(self, request: Request) -> tuple[str | None, list[audit.Entry]]:
        key = request.query_params.get("i") or None
        return key, audit.rows(self.store, insats=key)

    async def audit_page(self, request: Request) -> Response:
        if not self.web.user(request):
            return self.web.redirect(request, "/rar/login")
        key, entries = self._log_of(request)
        found = find(self.web.intake, key) if key else None
        return self.web.page(request, "rar_log.html", entries=entries[:AUDIT_PAGE_ROWS], total=len(entries),
                             insats=found[0] if found else None, key=key)

    async def audit_csv(self, request: Request) -> Response:
        return await self._export(request, "csv")

    async def audit_xlsx(self, request: Request) -> Response:
        return await self._export(request, "xlsx")

    async def _export(self, request: Request, kind: str) -> Response:
        user = self.web.user(request)
        if not user:
            return self.web.redirect(request, "/rar/login")
        key, entries = self._log_of(request)
        audit.log(self.store, "audit_export", user_name=user.name, client=self.web.client(request), insats=key,
                  detail=f"{kind}, {len(entries)} rader")
        stem = f"logg_{dt.datetime.now():%Y%m%d-%H%M%S}"
        if kind == "csv":
            return Response(audit.csv_bytes(entries), media_type="text/csv; charset=utf-8",
                            headers={"content-disposition": f'attachment; filename="{stem}.csv"'})
        folder = self.settings.state / "tmp" / new_token()
        folder.mkdir(parents=True)
        try:
            content = audit.write_xlsx(entries, folder / f"{stem}.xlsx").read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return Response(content, media_type=XLSX, headers={"content-disposition": f'attachment; filename="{stem}.xlsx"'})


def _field(form: FormData | None, name: str) -> str:
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) else ""


def _insats_path(insats: keys.Insats) -> str:
    from urllib.parse import quote

    return f"/rar/insats?i={quote(insats.key)}"


def _site(request: Request, web: Web) -> str:
    """The start of the links RAR sends out: the configured public address (`public_url`), else
    the address the kansli's own browser reached the server at (Web.site)."""
    return web.site(request)
