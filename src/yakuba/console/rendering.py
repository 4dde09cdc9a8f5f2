"""How console pages are answered: Jinja2 templates (autoescaped), the language switch, security headers,
cookies, and errors as pages (a person reads them, not a program)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from yakuba.clock import JST
from yakuba.console.texts import LANGUAGES, Lang, text
from yakuba.errors import YakubaError

__all__ = [
    "FORM_COOKIE",
    "LANG_COOKIE",
    "SESSION_COOKIE",
    "Pages",
    "error_page",
    "language",
]

SESSION_COOKIE = "console_session"
FORM_COOKIE = "console_form"
"""Double-submit token for forms posted before login (login, verification): the form field must equal it."""
LANG_COOKIE = "console_lang"

SECURITY_HEADERS = {
    # Pages load nothing from elsewhere; inline PNG charts come as data: URLs.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def language(request: Request) -> Lang:
    """The page language: ?lang= when given (and remembered), else the cookie, else Japanese."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "ja"
    return "en" if asked == "en" else "ja"


def _jst(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "-" if value is None else value.astimezone(JST).strftime(fmt)


class Pages:
    """The template environment and the cookie policy of one console."""

    def __init__(self, *, secure_cookies: bool) -> None:
        self.secure_cookies = secure_cookies
        self.env = Environment(
            loader=PackageLoader("yakuba.console", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["jst"] = _jst

    def render(self, request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        lang = language(request)
        page = self.env.get_template(template).render(
            t=lambda key: text(key, lang),
            lang=lang,
            other_lang="en" if lang == "ja" else "ja",
            path=request.url.path,
            languages=LANGUAGES,
            **context,
        )
        response = HTMLResponse(page, status_code=status_code)
        self.finish(request, response)
        return response

    def finish(self, request: Request, response: Response) -> None:
        """Security headers on every answer; remember a language asked for with ?lang=."""
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        if request.query_params.get("lang") in LANGUAGES:
            self.set_cookie(response, LANG_COOKIE, language(request), http_only=False)

    def set_cookie(self, response: Response, name: str, value: str, *, http_only: bool = True) -> None:
        response.set_cookie(name, value, httponly=http_only, secure=self.secure_cookies, samesite="strict", path="/")

    def render_form(self, request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A page with a pre-login form: its token in a hidden field and in a SameSite=Strict cookie (the
        double submit a cross-site form cannot make, since it can neither read nor set our cookie)."""
        token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
        response = self.render(request, template, status_code=status_code, form_token=token, **context)
        self.set_cookie(response, FORM_COOKIE, token)
        return response

    def redirect(self, request: Request, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.finish(request, response)
        return response


def error_page(pages: Pages, request: Request, exc: YakubaError) -> HTMLResponse:
    """A refusal or an error as a page, in the page's language, with the error's code."""
    lang = language(request)
    message = exc.text_ja if lang == "ja" else exc.text_en
    status = exc.http_status if 400 <= exc.http_status < 600 else 500
    return pages.render(request, "error.html", status_code=status, code=exc.code, message=message, session=None)
