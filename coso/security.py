"""Response headers that make the browser enforce what the server promises.

One Content-Security-Policy for every response: scripts, styles and connections only from
this origin, no inline script or style, no ``eval`` (htmx is told ``allowEval: false`` in
base.html), no framing. Pages carry no inline script: the strings scripts show travel in
``data-`` attributes (templates/_i18n_js.html). Strict-Transport-Security is sent when the
request came over HTTPS (or the deployment says it is served over HTTPS).

Behind a load balancer, ``COSO_TRUSTED_PROXIES`` says how many proxies set
``X-Forwarded-For``/``-Proto``; only then are those headers believed, so that the login
throttle counts the phone's address and not the proxy's, and HTTPS is recognised.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

#: The policy, directive by directive; no ``'unsafe-inline'`` and no ``'unsafe-eval'`` anywhere.
CSP_DIRECTIVES: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY = "; ".join(f"{key} {value}" for key, value in CSP_DIRECTIVES.items())

#: One year; sub-domains are left alone, since other services may share the parent domain.
HSTS = "max-age=31536000"

STATIC_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Paths carry ids of units and evaluations: other sites (guidance links) get nothing.
    "Referrer-Policy": "same-origin",
    # frame-ancestors 'none' for browsers too old to read it from the CSP.
    "X-Frame-Options": "DENY",
    # No Cross-Origin-Opener-Policy: coso opens no windows of other origins, and framing is
    # refused above. The camera for this origin only: the checklist's "take a photo" (issue 20)
    # opens it through a file input; no other site framed or linked gets it.
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
}


def wants_hsts() -> bool:
    """HSTS only means something over HTTPS; a deployment with secure cookies is served so."""
    return request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def add_security_headers(response: Response) -> Response:
    """Set the security headers on every response (views may not weaken them)."""
    for name, value in STATIC_HEADERS.items():
        response.headers[name] = value
    if wants_hsts():
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES", 0) or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.after_request(add_security_headers)
