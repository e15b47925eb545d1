"""The Starlette application: upload page, receipt, JSON API and RAR's page.

`create_app(settings)` is what uvicorn serves (cli/serve_cmd.py) and what the tests drive with
Starlette's TestClient. The work is done in intake.py, auth.py and overview.py; this module maps
HTTP onto them. Pages are Jinja2 templates with autoescape on (nothing a user sent is ever
written into a page unescaped) and work without JavaScript; every form carries a CSRF token.

Routes:
  GET  /                           the upload page         POST /  the upload (→ 303 to its receipt)
  GET  /kvitto/{token}             the receipt             GET  /kvitto/{token}/kontrollkopia
  POST /api/uploads                JSON: receipt + ReadResult.to_json(); no cookies, no CSRF
  GET  /api/uploads/{token}        the same JSON again
  GET  /rar/login, POST /rar/login, POST /rar/logout
  GET  /rar                        who has reported        GET  /rar/status.json (the same as JSON)
  POST /rar/sammanstallning        writes the master workbook of the inbox and downloads it
  GET  /tillganglighet             the accessibility statement (accessibility.py), linked from every page
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..common.issues import SEVERITY_SV, Severity
from .accessibility import DIGG_REPORT_URL, LAW, swedish_date
from .auth import LoginThrottle, Sessions, csrf_token, csrf_valid, load_secret, new_token, verify_password
from .intake import BAD_FORM, EXPIRED_FORM, NO_FILE, Intake, Outcome, Receipt, size_text, too_large_message
from .overview import FILE_COUNT_LABELS, build_overview, write_master_workbook
from .settings import Settings

HERE = Path(__file__).parent
CSRF_COOKIE = "lagesrapport_csrf"
SESSION_COOKIE = "lagesrapport_rar"
CSRF_FIELD = "csrf_token"
FILE_FIELD = "file"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SMALL_FORM_BYTES = 16 * 1024  # login and buttons: a password and a token
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
    """The server's parts and its endpoints."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.intake = Intake(settings)
        self.sessions = Sessions(self.intake.store, settings.session_hours)
        self.throttle = LoginThrottle(settings.login_attempts, settings.login_window)
        self.secret = load_secret(settings.state / "secret.key")
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
        )
        env.filters["when"] = _when
        env.filters["size"] = size_text
        env.filters["swedish_date"] = swedish_date
        self.templates = Jinja2Templates(env=env)

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

    def _csrf_ok(self, request: Request, form: FormData) -> bool:
        return csrf_valid(self.secret, request.cookies.get(CSRF_COOKIE), _text(form.get(CSRF_FIELD)))

    def _set_cookie(self, request: Request, response: Response, key: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            key, value, max_age=max_age, path=self.base(request) or "/", secure=self.settings.https,
            httponly=True, samesite="lax",
        )

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        csrf = csrf_token(self.secret, self._csrf_cookie(request))
        common = {"base": self.base(request), "form_version": self.settings.spec.version, "csrf": csrf}
        response = self.templates.TemplateResponse(request, name, {**common, **context}, status_code=status)
        new_cookie = getattr(request.state, "new_csrf_cookie", None)
        if new_cookie:
            self._set_cookie(request, response, CSRF_COOKIE, new_cookie, None)
        return response

    def message(self, request: Request, status: int, text: str, *, back: str = "/", back_text: str | None = None,
                title: str | None = None) -> Response:
        return self.page(request, "message.html", status, title=title or STATUS_TITLES.get(status, "Fel"),
                         message=text, back=back, back_text=back_text)

    def redirect(self, request: Request, path: str) -> RedirectResponse:
        return RedirectResponse(self.base(request) + path, status_code=303)

    def _session(self, request: Request) -> str | None:
        token = request.cookies.get(SESSION_COOKIE)
        return token if self.sessions.valid(token) else None

    @staticmethod
    def _client(request: Request) -> str | None:
        return request.client.host if request.client else None

    # --- uploads -----------------------------------------------------------------------------------

    async def _upload(self, request: Request, *, check_csrf: bool) -> tuple[Receipt, int]:
        """One upload from a multipart body: its receipt and the HTTP status to answer with."""
        client = self._client(request)

        async def refused(name: str | None, code: str, text: str, status: int) -> tuple[Receipt, int]:
            return await run_in_threadpool(self.intake.refuse, name, code, text, client=client), status

        try:
            form = await request.form(max_files=1, max_fields=8)
        except HTTPException as exc:
            if exc.status_code == 413:
                return await refused(None, "too_large", too_large_message(self.settings.max_upload_bytes), 413)
            return await refused(None, "bad_form", BAD_FORM, 400)
        try:
            upload = form.get(FILE_FIELD)
            name = upload.filename if isinstance(upload, UploadFile) else None
            if check_csrf and not self._csrf_ok(request, form):
                return await refused(name, "expired_form", EXPIRED_FORM, 403)
            if not isinstance(upload, UploadFile) or (not upload.filename and not upload.size):
                return await refused(name, "no_file", NO_FILE, 400)
            content = await upload.read()
        finally:
            await form.close()
        receipt = await run_in_threadpool(self.intake.receive, content, name, client=client)
        if receipt.outcome is Outcome.REFUSED:
            return receipt, 422
        return receipt, 200 if receipt.already_received else 201

    def _receipt_page(self, request: Request, receipt: Receipt, status: int = 200) -> Response:
        return self.page(
            request, "receipt.html", status, r=receipt, advice=receipt.advice, severity=SEVERITY_SV_BY_VALUE,
            errors=receipt.count(Severity.ERROR), warnings=receipt.count(Severity.WARNING),
        )

    async def upload_page(self, request: Request) -> Response:
        return self.page(request, "upload.html", max_size=size_text(self.settings.max_upload_bytes))

    async def upload_form(self, request: Request) -> Response:
        receipt, status = await self._upload(request, check_csrf=True)
        if status in (200, 201, 422):  # read by the reader: its receipt has an address of its own
            return self.redirect(request, f"/kvitto/{receipt.token}")
        return self._receipt_page(request, receipt, status)

    async def receipt_page(self, request: Request) -> Response:
        receipt = self.intake.receipt(request.path_params["token"])
        if receipt is None:
            return self.message(request, 404, "Det finns inget kvitto med den adressen. Kontrollera länken.")
        return self._receipt_page(request, receipt)

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
        receipt, status = await self._upload(request, check_csrf=False)
        return JSONResponse(self._receipt_json(request, receipt), status_code=status)

    async def api_receipt(self, request: Request) -> Response:
        receipt = self.intake.receipt(request.path_params["token"])
        if receipt is None:
            return JSONResponse({"error": "Inget kvitto med den adressen."}, status_code=404)
        return JSONResponse(self._receipt_json(request, receipt))

    # --- RAR -------------------------------------------------------------------------------------------

    def _login_page(self, request: Request, status: int = 200, message: str = "") -> Response:
        return self.page(request, "login.html", status, message=message, closed=self.settings.password_hash is None)

    async def login_page(self, request: Request) -> Response:
        if self._session(request):
            return self.redirect(request, "/rar")
        return self._login_page(request)

    async def login(self, request: Request) -> Response:
        if self.settings.password_hash is None:
            return self._login_page(request, 403)
        client = self._client(request) or "?"
        form = await self._small_form(request)
        if form is None or not self._csrf_ok(request, form):
            return self._login_page(request, 403, "Sidan hade gått ut. Skriv lösenordet igen.")
        if self.throttle.locked(client):
            return self._login_page(request, 429, "För många felaktiga försök. Vänta en kvart och försök igen.")
        password = _text(form.get("password")) or ""
        if not await run_in_threadpool(verify_password, password, self.settings.password_hash):
            self.throttle.failed(client)
            await asyncio.sleep(self.settings.login_delay)
            return self._login_page(request, 401, "Fel lösenord. Försök igen.")
        self.throttle.succeeded(client)
        response = self.redirect(request, "/rar")
        self._set_cookie(request, response, SESSION_COOKIE, self.sessions.start(),
                         int(self.settings.session_hours * 3600))
        return response

    async def _small_form(self, request: Request) -> FormData | None:
        try:
            return await request.form(max_files=0, max_fields=4)
        except HTTPException:
            return None

    async def _rar_post(self, request: Request) -> Response | None:
        """None when the request comes from RAR's logged-in page, else the answer to send."""
        if not self._session(request):
            return self.redirect(request, "/rar/login")
        form = await self._small_form(request)
        if form is None or not self._csrf_ok(request, form):
            return self.message(request, 403, "Sidan hade gått ut. Ladda om den och försök igen.", back="/rar",
                                back_text="Till RAR:s sida")
        return None

    async def logout(self, request: Request) -> Response:
        refused = await self._rar_post(request)
        if refused is not None:
            return refused
        self.sessions.end(request.cookies.get(SESSION_COOKIE))
        response = self.redirect(request, "/rar/login")
        response.delete_cookie(SESSION_COOKIE, path=self.base(request) or "/")
        return response

    async def rar_page(self, request: Request) -> Response:
        if not self._session(request):
            return self.redirect(request, "/rar/login")
        overview = await run_in_threadpool(build_overview, self.intake)
        register = self.settings.register
        return self.page(request, "rar.html", o=overview, register_name=register.name if register else "",
                         inbox=str(self.settings.inbox), file_labels=FILE_COUNT_LABELS)

    async def rar_status(self, request: Request) -> Response:
        if not self._session(request):
            return JSONResponse({"error": "Logga in på /rar/login först."}, status_code=401)
        overview = await run_in_threadpool(build_overview, self.intake)
        return JSONResponse(overview.to_json())

    async def master(self, request: Request) -> Response:
        refused = await self._rar_post(request)
        if refused is not None:
            return refused
        path = await run_in_threadpool(write_master_workbook, self.intake)
        if path is None:
            return self.message(request, 404, "Inkorgen är tom: det finns inget att sammanställa.", back="/rar",
                                back_text="Till RAR:s sida", title="Ingen sammanställning")
        return FileResponse(path, media_type=XLSX, filename=path.name)

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




def create_app(settings: Settings) -> Starlette:
    """The ASGI application of one server (its folders are made on the way)."""
    web = Web(settings)
    upload_limit = [Middleware(BodyLimit, limit=settings.max_body_bytes)]
    small = [Middleware(BodyLimit, limit=SMALL_FORM_BYTES)]
    routes = [
        Route("/", web.upload_page, methods=["GET"]),
        Route("/", web.upload_form, methods=["POST"], middleware=upload_limit),
        Route("/kvitto/{token}", web.receipt_page),
        Route("/kvitto/{token}/kontrollkopia", web.annotated_copy),
        Route("/api/uploads", web.api_upload, methods=["POST"], middleware=upload_limit),
        Route("/api/uploads/{token}", web.api_receipt),
        Route("/rar", web.rar_page),
        Route("/rar/status.json", web.rar_status),
        Route("/rar/login", web.login_page, methods=["GET"]),
        Route("/rar/login", web.login, methods=["POST"], middleware=small),
        Route("/rar/logout", web.logout, methods=["POST"], middleware=small),
        Route("/rar/sammanstallning", web.master, methods=["POST"], middleware=small),
        Route("/tillganglighet", web.accessibility_page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: web.http_error, Exception: web.http_error},
    )
    app.state.web = web
    return app
