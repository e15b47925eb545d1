"""The Starlette application: `create_app(settings)` is what uvicorn serves (cli/serve_cmd.py) and
what the tests drive with Starlette's TestClient. The endpoints are in server.py (anyone's) and
rar_routes.py (RAR's); this module lists the routes and their body limits.

Every redirect is relative (the root path and a path): Starlette's own redirect of `/rar/` to
`/rar` is built from the request's Host header, so `relative_slash_redirects` replaces it.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse
from starlette.routing import Match, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from .rar_routes import RarPages
from .server import (  # noqa: F401  (the names the tests and the dev tools use, from here)
    CSRF_COOKIE,
    HERE,
    SESSION_COOKIE,
    SMALL_FORM_BYTES,
    BodyLimit,
    SecurityHeaders,
    Web,
)
from .settings import Settings


def create_app(settings: Settings) -> Starlette:
    """The ASGI application of one server (its folders are made on the way)."""
    web = Web(settings)
    rar = RarPages(web)
    upload_limit = [Middleware(BodyLimit, limit=settings.max_body_bytes)]
    small = [Middleware(BodyLimit, limit=SMALL_FORM_BYTES)]
    routes = [
        Route("/", web.check_page, methods=["GET"]),
        Route("/", web.check_form, methods=["POST"], middleware=upload_limit),
        Route("/kvitto/{token}", web.receipt),
        Route("/kvitto/{token}/kontrollkopia", web.annotated_copy),
        Route("/insats/{key}", web.insats_page, methods=["GET"]),
        Route("/insats/{key}", web.insats_upload, methods=["POST"], middleware=upload_limit),
        Route("/insats/{key}/mall", web.insats_template),
        Route("/mall", web.blank_template),
        Route("/insats/{key}/kvitto/{token}", web.insats_receipt),
        Route("/api/uploads", web.api_upload, methods=["POST"], middleware=upload_limit),
        Route("/api/uploads/{token}", web.api_receipt),
        *rar.routes(small),
        Route("/tillganglighet", web.accessibility_page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: web.http_error, Exception: web.http_error},
    )
    relative_slash_redirects(app.router)
    app.state.web = web
    return app


def relative_slash_redirects(router: Router) -> None:
    """`/rar/` → `/rar` (307) with a relative Location, for any path that matches a route without
    its last slash; everything else is the router's own 404."""
    router.redirect_slashes = False
    not_found = router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        root, path = scope.get("root_path", ""), scope["path"]
        if root and path.startswith(root + "/"):
            path = path[len(root):]  # the path below the root path, as the routes see it
        if scope["type"] == "http" and path.endswith("/") and path.strip("/"):
            shorter = {**scope, "path": scope["path"].rstrip("/")}
            if any(route.matches(shorter)[0] is not Match.NONE for route in router.routes):
                query = scope.get("query_string", b"").decode("latin-1")
                location = root.rstrip("/") + path.rstrip("/") + (f"?{query}" if query else "")
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        await not_found(scope, receive, send)

    router.default = default
