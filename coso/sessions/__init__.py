"""Sign-ins the server can end (issue 17): the ``login_session`` rows behind every cookie.

rules.py holds the pure parts (keys and their hashes, when a sign-in is live, how a
browser is described, the known-device list); queries.py and service.py read and
write the rows; devices.py the signed ``coso_device`` cookie that lets the owner's
own phone through the login throttle; views.py the page /account/sessions where a
user sees their sign-ins and ends the others (a lost phone).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the page and the hook that notes when a sign-in was last used."""
    # Imported here, not at the top: auth and the users' service import this package's
    # service, and need not load the page's blueprint with it.
    from coso.sessions import service, views

    app.register_blueprint(views.bp)
    app.after_request(service.touch_after_request)
