"""The interactive documentation (Swagger UI at /docs, ReDoc at /redoc), served with no internet access.

FastAPI's own pages load their scripts and styles from a CDN, so on a machine without internet access
(a council network, a laptop on a train) they are blank. The assets here come from the
``fastapi-offline`` package (PyPI; it ships the Swagger UI and ReDoc bundles and is updated with them),
served by the service under ``/docs/assets``; the pages are FastAPI's own HTML, pointed at them.

``fastapi-offline``'s factory (``FastAPIOffline``) is not used: it adds the pages as API routes (which
``app.core.routing`` requires to be transactional and authenticated) and expects the document to be
served, which production turns off. Only its files are.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
_ASSETS = files("fastapi_offline") / "static"
# No validator badge: Swagger UI would send the whole document to validator.swagger.io to draw it.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}
# The pages load nothing from elsewhere, and the browser is told so: ReDoc's "API docs by Redocly" badge
# (an image on a CDN, hidden when it fails) is not even asked for. Inline script and style: the pages'
# own start-up code (FastAPI's HTML) and the styles both viewers inject; blob: workers for ReDoc.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'"
)


def _own_assets_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def serve_docs(app: FastAPI) -> None:
    """Serve /docs, its OAuth redirect page and /redoc for ``app``'s document, with their assets.

    ``app`` is made with ``docs_url=None, redoc_url=None`` (FastAPI's pages would load from a CDN); its
    ``docs_url`` and ``redoc_url`` name these pages afterwards."""
    assert app.openapi_url is not None
    openapi_url = app.openapi_url
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url
    app.mount(ASSETS_URL, StaticFiles(directory=str(_ASSETS)), name="docs-assets")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + oauth2_redirect_url if oauth2_redirect_url else None,
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})},
        )
        return _own_assets_only(page)

    async def swagger_ui_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        return _own_assets_only(page)

    app.add_route(DOCS_URL, swagger_ui, include_in_schema=False)
    if oauth2_redirect_url:
        app.add_route(oauth2_redirect_url, swagger_ui_redirect, include_in_schema=False)
    app.add_route(REDOC_URL, redoc, include_in_schema=False)
    app.docs_url = DOCS_URL
    app.redoc_url = REDOC_URL
