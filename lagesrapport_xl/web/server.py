"""The server's HTTP side: middleware, the shared helpers of every page, and the endpoints anyone may
reach — the open check page, each insats' own page, receipts, the JSON API. RAR's pages are in
rar_routes.py; app.py puts them together.

The work is done in intake.py, keys.py, accounts.py, review.py, overview.py and insats.py; this
module, rar_routes.py and app.py map HTTP onto them (and are the only modules that import the
framework). Pages are Jinja2 templates with autoescape on (nothing a user
sent is ever written into a page unescaped) and work without JavaScript; every form carries a CSRF
token.

Routes (app.py lists them all):
  GET  /                           "Kontrollera din fil"   POST /  a check: stores nothing (→ 303 to its receipt)
  GET  /kvitto/{token}             the receipt             GET  /kvitto/{token}/kontrollkopia
  GET  /insats/{key}               the insats' own page    POST /insats/{key}  its upload (→ 303 to its receipt)
  GET  /insats/{key}/mall          its template for the coming period
  GET  /mall                       the empty template (linked from "Kontrollera din fil")
  GET  /insats/{key}/kvitto/{token}  a receipt of its upload, with the way back to its page
  POST /api/uploads                JSON: receipt + ReadResult.to_json(); with `Authorization: Bearer <key>`
                                   a submission for the key's insats, without one only a check
  GET  /api/uploads/{token}        the same JSON again
  GET  /tillganglighet             the accessibility statement (accessibility.py), linked from every page

Every upload passes the limits per address and link (limits.UploadGuard) before its body is read;
over one it is answered 429 with Retry-After and its receipt (the receipt page, or JSON), unread.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..common.config import TemplateOptions
from ..common.issues import SEVERITY_SV, Severity
from . import audit, fallback, keys
from . import insats as insats_data
from .accessibility import DIGG_REPORT_URL, LAW, swedish_date
from .accounts import Role, User, credential
from .auth import Sessions, csrf_token, csrf_valid, load_secret, new_token
from .file_links import FileLinks
from .insats import versions
from .intake import (
    BAD_FORM,
    BAD_KEY,
    EXPIRED_FORM,
    NO_FILE,
    Intake,
    Outcome,
    Receipt,
    size_text,
    too_large_message,
)
from .limits import LoginGuard, Refusal, UploadGuard
from .overview import build_overview
from .priority import UploadsFirst
from .recovery import hold_state, reconcile
from .settings import Settings

HERE = Path(__file__).parent
TEMPLATE_FOLDER = "mallar"  # in the state folder: templates being written for a download
BLANK_CACHE = 8  # empty templates kept in memory, one per upload address (a Host header cannot grow it)
CSRF_COOKIE = "lagesrapport_csrf"
SESSION_COOKIE = "lagesrapport_rar"
CSRF_FIELD = "csrf_token"
FILE_FIELD = "file"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SMALL_FORM_BYTES = 64 * 1024  # login, buttons, a review: its comment (review.MAX_COMMENT, URL-encoded) and questions
SMALL_FORM_FIELDS = 256  # a review may point at every question of the form
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
     b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # a receipt's address is its key: never pass it on
]

SEVERITY_SV_BY_VALUE = {severity.value: text for severity, text in SEVERITY_SV.items()}  # "error" → "Fel"
STATUS_TITLES = {
    400: "Uppladdningen gick inte att läsa",
    401: "Länken gäller inte",
    403: "Åtkomst nekad",
    404: "Sidan finns inte",
    405: "Det går inte att göra så här",
    413: "Filen är för stor",
    429: "För många försök",
    500: "Något gick fel i servern",
}


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, "Content Too Large")


class BodyLimit:
    """Refuse a request body over `limit` bytes before it is read: by its declared Content-Length
    at the first read, and by counting for a chunked body. The endpoint sees BodyTooLarge from
    `request.form()` and answers with its own Swedish page (and log row).

    Starlette's RequestBodyLimitMiddleware does the counting too, but answers a declared
    oversize body with its own English plain-text response whatever the endpoint sends."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        oversize = declared.isdigit() and int(declared) > self.limit
        total = 0

        async def limited() -> Message:
            nonlocal total
            if oversize:
                raise BodyTooLarge()
            message = await receive()
            total += len(message.get("body", b""))
            if total > self.limit:
                raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)


class SecurityHeaders:
    """Headers for every response: no scripts or frames (the pages need none), no sniffing, no
    referrer; pages are never cached (receipts and RAR's page are private), the stylesheet is."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(scope.get("root_path", "") + "/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + SECURITY_HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _text(value: Any) -> str | None:
    """A form field as text; a file sent where text belongs counts as nothing."""
    return value if isinstance(value, str) else None


class Web:
    """The server's parts and the endpoints anyone may reach (RAR's: rar_routes.RarPages)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.intake = Intake(settings)
        self.file_links = FileLinks(self.intake)  # RAR's page: each stored file's token and issues
        self.uploads_first = UploadsFirst()
        self.store = self.intake.store
        self.state_lock = hold_state(settings.state)  # held while the server runs; None: another holds it
        if self.state_lock is not None:
            self.reconciled = reconcile(self.intake)  # after a crash: inbox, state folder and log agree again
        self.secret = load_secret(settings.state / "secret.key")
        self.sessions = Sessions(self.store, settings.session_hours, self.secret,
                                 lambda name: credential(self.store, name, settings.password_hash))
        self.sessions.end_stale()
        self.logins = LoginGuard(self.store, settings.guard)
        self.uploads = UploadGuard(self.store, settings.guard)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
        )
        env.filters["when"] = _when
        env.filters["size"] = size_text
        env.filters["swedish_date"] = swedish_date
        self.templates = Jinja2Templates(env=env)
        self._blank: dict[TemplateOptions, bytes] = {}  # the empty template is the same bytes every time

    # --- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def base(request: Request) -> str:
        """The prefix of every link: the root path behind a reverse proxy ("" otherwise)."""
        return request.scope.get("root_path", "").rstrip("/")

    def _csrf_cookie(self, request: Request) -> str:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not cookie:
            cookie = getattr(request.state, "new_csrf_cookie", None) or new_token()
            request.state.new_csrf_cookie = cookie
        return cookie

    def csrf_ok(self, request: Request, form: FormData) -> bool:
        return csrf_valid(self.secret, request.cookies.get(CSRF_COOKIE), _text(form.get(CSRF_FIELD)))

    def set_cookie(self, request: Request, response: Response, key: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            key, value, max_age=max_age, path=self.base(request) or "/", secure=self.settings.https,
            httponly=True, samesite="lax",
        )

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        csrf = csrf_token(self.secret, self._csrf_cookie(request))
        common = {"base": self.base(request), "form_version": self.settings.spec.version, "csrf": csrf,
                  "user": getattr(request.state, "user", None)}
        response = self.templates.TemplateResponse(request, name, {**common, **context}, status_code=status)
        new_cookie = getattr(request.state, "new_csrf_cookie", None)
        if new_cookie:
            self.set_cookie(request, response, CSRF_COOKIE, new_cookie, None)
        return response

    def message(self, request: Request, status: int, text: str, *, back: str = "/", back_text: str | None = None,
                title: str | None = None) -> Response:
        return self.page(request, "message.html", status, title=title or STATUS_TITLES.get(status, "Fel"),
                         message=text, back=back, back_text=back_text)

    def site(self, request: Request) -> str:
        """The server's public address: rar.toml's `public_url`, else the address the browser
        reached it at (behind a proxy: with its prefix). Links sent out and the upload address in
        a template handed out start so; with `public_url` set, never from the request's Host."""
        if self.settings.public_url:
            return self.settings.public_url
        return f"{request.url.scheme}://{request.url.netloc}{self.base(request)}"

    def template_options(self, request: Request) -> TemplateOptions:
        """rar.toml's [template]; without an upload address, this server's own: a template it
        hands out points back to it, never to e-mail."""
        options = self.settings.template
        return options if options.upload_url else replace(options, upload_url=self.site(request))

    async def _template_file(self, write: Any) -> bytes:
        """A template written by `write(folder)` into a folder of its own, as bytes."""
        folder = self.settings.state / TEMPLATE_FOLDER / new_token()
        folder.mkdir(parents=True)
        try:
            path = await run_in_threadpool(write, folder)
            return path.read_bytes()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def redirect(self, request: Request, path: str) -> RedirectResponse:
        """A relative redirect (the root path and `path`): never built from the request's Host."""
        return RedirectResponse(self.base(request) + path, status_code=303)

    @staticmethod
    def retry_after(response: Response, refusal: Refusal | None) -> Response:
        if refusal is not None:
            response.headers["Retry-After"] = str(refusal.retry_after)
        return response

    def user(self, request: Request) -> User | None:
        """The logged-in staff account of the request (also kept on request.state for the pages)."""
        found = self.sessions.user(request.cookies.get(SESSION_COOKIE))
        user = User(found[0], Role(found[1])) if found else None
        request.state.user = user
        return user

    @staticmethod
    def client(request: Request) -> str | None:
        return request.client.host if request.client else None

    async def admit(self, request: Request, insats: keys.Insats | None) -> Refusal | None:
        """The upload limits (limits.UploadGuard), before the body is read; a refused body is
        drained unread within the body limit, so that the browser gets to see the answer."""
        declared = request.headers.get("content-length", "")
        size = min(int(declared), self.settings.max_body_bytes) if declared.isdigit() else self.settings.max_body_bytes
        refusal = await run_in_threadpool(self.uploads.admit, self.client(request) or "?",
                                          insats.key_id if insats else None, size)
        if refusal is not None:
            try:
                async for _chunk in request.stream():
                    pass
            except (HTTPException, ClientDisconnect):
                pass  # over the body limit (not read at all), or the client went away
        request.state.refusal = refusal
        return refusal

    async def small_form(self, request: Request) -> FormData | None:
        try:
            return await request.form(max_files=0, max_fields=SMALL_FORM_FIELDS)
        except HTTPException:
            return None

    # --- uploads -----------------------------------------------------------------------------------

    async def _upload(self, request: Request, *, check_csrf: bool, insats: keys.Insats | None,
                      submitted: bool) -> tuple[Receipt, int]:
        """One upload from a multipart body: its receipt and the HTTP status to answer with."""
        client = self.client(request)

        async def refused(name: str | None, code: str, text: str, status: int) -> tuple[Receipt, int]:
            receipt = await run_in_threadpool(self.intake.refuse, name, code, text, client=client, insats=insats,
                                              submitted=submitted)
            return receipt, status

        limit = request.state.refusal if hasattr(request.state, "refusal") else await self.admit(request, insats)
        if limit is not None:
            return await refused(None, limit.code, limit.message, 429)
        try:
            form = await request.form(max_files=1, max_fields=8)
        except HTTPException as exc:
            if exc.status_code == 413:
                return await refused(None, "too_large", too_large_message(self.settings.max_upload_bytes), 413)
            return await refused(None, "bad_form", BAD_FORM, 400)
        except Exception as exc:  # noqa: BLE001 - the body could not be taken in (a full temporary disk …)
            return await refused(None, *fallback.failure(exc), 422)
        try:
            upload = form.get(FILE_FIELD)
            name = upload.filename if isinstance(upload, UploadFile) else None
            if check_csrf and not self.csrf_ok(request, form):
                return await refused(name, "expired_form", EXPIRED_FORM, 403)
            if not isinstance(upload, UploadFile) or (not upload.filename and not upload.size):
                return await refused(name, "no_file", NO_FILE, 400)
            content = await upload.read()
        except Exception as exc:  # noqa: BLE001 - reading the spooled file failed: a refusal, logged
            return await refused(None, *fallback.failure(exc), 422)
        finally:
            await form.close()
        async with self.uploads_first.uploading():  # RAR's page waits a moment for it (priority.py)
            receipt = await run_in_threadpool(self.intake.receive, content, name, client=client, insats=insats)
        if receipt.outcome is Outcome.REFUSED:
            return receipt, 422
        if not receipt.submitted:
            return receipt, 200
        return receipt, 200 if receipt.already_received else 201

    def receipt_page(self, request: Request, receipt: Receipt, status: int = 200, *, back: str | None = None,
                     copy: str | None = None) -> Response:
        """The receipt; also the direct answer to an upload refused unread (413, 400, 403, and 429
        with its Retry-After)."""
        copy = copy or f"/kvitto/{receipt.token}/kontrollkopia"
        response = self.page(
            request, "receipt.html", status, r=receipt, advice=receipt.advice, severity=SEVERITY_SV_BY_VALUE,
            errors=receipt.count(Severity.ERROR), warnings=receipt.count(Severity.WARNING), back=back, copy=copy,
        )
        return self.retry_after(response, getattr(request.state, "refusal", None) if status == 429 else None)

    async def check_page(self, request: Request) -> Response:
        return self.page(request, "upload.html", max_size=size_text(self.settings.max_upload_bytes))

    async def check_form(self, request: Request) -> Response:
        receipt, status = await self._upload(request, check_csrf=True, insats=None, submitted=False)
        if status in (200, 201, 422):  # read by the reader: its receipt has an address of its own
            return self.redirect(request, f"/kvitto/{receipt.token}")
        return self.receipt_page(request, receipt, status)

    async def receipt(self, request: Request) -> Response:
        receipt = self.intake.receipt(request.path_params["token"])
        if receipt is None:
            return self.message(request, 404, "Det finns inget kvitto med den adressen. Kontrollera länken.")
        return self.receipt_page(request, receipt)

    async def annotated_copy(self, request: Request) -> Response:
        path = self.intake.annotated_copy(request.path_params["token"])
        if path is None:
            return self.message(request, 404, "Det finns ingen kontrollkopia med den adressen.")
        return FileResponse(path, media_type=XLSX, filename=path.name)

    def _receipt_json(self, request: Request, receipt: Receipt) -> dict[str, Any]:
        data = receipt.to_json()
        result = data.pop("result")
        data["receipt_url"] = f"{self.base(request)}/kvitto/{receipt.token}"
        data["annotated_copy_url"] = f"{data['receipt_url']}/kontrollkopia" if receipt.annotated else None
        return {"receipt": data, "result": result}

    async def api_upload(self, request: Request) -> Response:
        """With a Bearer key: a submission for the key's insats; without: a check (stores nothing).
        A wrong or revoked key is refused (401) and logged, its file unread."""
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        bearer, insats = scheme.lower() == "bearer", None
        if bearer:
            insats = keys.lookup(self.store, secret.strip())
            if insats is None and await self.admit(request, None) is None:
                async for _chunk in request.stream():  # read within the body limit, then refused unread
                    pass
                receipt = await run_in_threadpool(self.intake.refuse, None, "bad_key", BAD_KEY,
                                                  client=self.client(request), submitted=True)
                return JSONResponse(self._receipt_json(request, receipt), status_code=401)
        receipt, status = await self._upload(request, check_csrf=False, insats=insats, submitted=bearer)
        response = JSONResponse(self._receipt_json(request, receipt), status_code=status)
        return self.retry_after(response, request.state.refusal if status == 429 else None)

    async def api_receipt(self, request: Request) -> Response:
        receipt = self.intake.receipt(request.path_params["token"])
        if receipt is None:
            return JSONResponse({"error": "Inget kvitto med den adressen."}, status_code=404)
        return JSONResponse(self._receipt_json(request, receipt))

    # --- an insats' own page, through its link ------------------------------------------------------

    def _link(self, request: Request) -> keys.Insats | None:
        return keys.lookup(self.store, request.path_params["key"])

    def _bad_link(self, request: Request) -> Response:
        return self.message(request, 404, BAD_KEY, title="Länken gäller inte")

    async def insats_page(self, request: Request) -> Response:
        insats = self._link(request)
        if insats is None:
            return self._bad_link(request)
        key = request.path_params["key"]
        found = await run_in_threadpool(insats_data.find, self.intake, insats.key)
        row = found[1] if found else None
        plan = await run_in_threadpool(insats_data.template_plan, self.intake, insats, row) if row else None
        overview = await run_in_threadpool(build_overview, self.intake)
        shown = await run_in_threadpool(versions, self.intake, insats, overview)
        refused = [r for r in self.intake.uploads_of(insats.key) if r.outcome is Outcome.REFUSED]
        return self.page(request, "insats.html", insats=insats, key=key, plan=plan, versions=shown, refused=refused,
                         reports=insats_data.report_reviews(shown), max_size=size_text(self.settings.max_upload_bytes))

    async def insats_upload(self, request: Request) -> Response:
        insats = self._link(request)
        if insats is None:
            refusal = await self.admit(request, None)
            if refusal is not None:
                return self.retry_after(self.message(request, 429, refusal.message), refusal)
            async for _chunk in request.stream():  # read within the body limit, then refused unread
                pass
            return self._bad_link(request)
        key = request.path_params["key"]
        receipt, status = await self._upload(request, check_csrf=True, insats=insats, submitted=True)
        if status in (200, 201, 422):
            return self.redirect(request, f"/insats/{key}/kvitto/{receipt.token}")
        return self.receipt_page(request, receipt, status, back=f"/insats/{key}")

    async def insats_receipt(self, request: Request) -> Response:
        insats = self._link(request)
        receipt = self.intake.receipt(request.path_params["token"])
        if insats is None:
            return self._bad_link(request)
        mine = receipt is not None and any(r.token == receipt.token for r in self.intake.uploads_of(insats.key))
        if not mine:
            return self.message(request, 404, "Det finns inget kvitto med den adressen. Kontrollera länken.")
        return self.receipt_page(request, receipt, back=f"/insats/{request.path_params['key']}")

    async def insats_template(self, request: Request) -> Response:
        insats = self._link(request)
        if insats is None:
            return self._bad_link(request)
        found = await run_in_threadpool(insats_data.find, self.intake, insats.key)
        if not found or found[1] is None:
            return self.message(request, 404, "RAR:s register har inte insatsen just nu, så ingen mall kan göras. "
                                "Kontakta RAR:s kansli.", back=f"/insats/{request.path_params['key']}",
                                back_text="Till insatsens sida")
        plan = await run_in_threadpool(insats_data.template_plan, self.intake, insats, found[1])
        options = self.template_options(request)
        content = await self._template_file(
            lambda folder: insats_data.write_plan(self.intake, plan, folder, options))
        audit.log(self.store, "template", insats=insats.key, insats_title=insats.title, key_id=insats.key_id,
                  client=self.client(request), detail=plan.name)
        return Response(content, media_type=XLSX, headers={
            "content-disposition": f'attachment; filename="{plan.name}"'})

    async def blank_template(self, request: Request) -> Response:
        """The empty template, for anyone (it holds nothing of any insats), made once per address."""
        options = self.template_options(request)
        if options not in self._blank:
            if len(self._blank) >= BLANK_CACHE:  # one per address the server is reached by: a few
                self._blank.clear()
            self._blank[options] = await self._template_file(
                lambda folder: insats_data.write_blank(self.intake, folder, options))
        return Response(self._blank[options], media_type=XLSX, headers={
            "content-disposition": f'attachment; filename="{insats_data.BLANK_TEMPLATE}"'})

    async def accessibility_page(self, request: Request) -> Response:
        return self.page(request, "accessibility.html", s=self.settings.accessibility, digg=DIGG_REPORT_URL, law=LAW)

    # --- errors ------------------------------------------------------------------------------------

    async def http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        text = {
            404: "Sidan finns inte. Kontrollera adressen.",
            405: "Sidan kan inte användas på det sättet. Gå till startsidan och försök igen.",
            413: too_large_message(self.settings.max_upload_bytes),
        }.get(status, "Något gick fel. Försök igen om en stund; kvarstår felet, kontakta RAR:s kansli.")
        if request.url.path.startswith(self.base(request) + "/api/"):
            return JSONResponse({"error": text}, status_code=status)
        return self.message(request, status, text)
