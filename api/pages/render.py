"""Rendering a page: one Jinja2 environment over `api/pages/templates/`.

`render(request, "kiosk.html", js=("kiosk.",), branch=name)` answers the HTML of a
template that extends `base.html`, in the request's language (api.pages.i18n), with:

- `t(key, **values)`: a text of the catalogue; `lang`, `other_lang`, `switch_url`
  (this page in the other language, for the switch in the header);
- `js_messages`: the texts whose keys start with the `js` prefixes, put on `<body
  data-messages='…'>` for the page's script (`Ticketero.msg(key)` in common.js);
- `static(name)`: the URL of a file of `api/pages/static/`.

Asking `?lang=xx` also sets the `lang` cookie, so the next pages keep the language.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.pages.i18n import COOKIE, LANGUAGES, Translator, choose_language

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
STATIC_DIR: Final = Path(__file__).parent / "static"
STATIC_URL: Final = "/static"
COOKIE_MAX_AGE: Final = 365 * 24 * 3600

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def static(name: str) -> str:
    return f"{STATIC_URL}/{name}"


def switch_url(request: Request, lang: str) -> str:
    """This page's path and query with `lang` set (the fragment stays in the browser)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return f"{request.url.path}?{urlencode([*kept, ('lang', lang)])}"


def render(
    request: Request,
    template: str,
    *,
    js: Iterable[str] = (),
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang, asked = choose_language(request)
    t = Translator(lang)
    other = next(code for code in LANGUAGES if code != lang)
    html = environment.get_template(template).render(
        t=t,
        lang=lang,
        other_lang=other,
        switch_url=switch_url(request, other),
        js_messages=t.subset(("common.", *js)),
        static=static,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = lang
    if asked:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="lax", httponly=True)
    return response
