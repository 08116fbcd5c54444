"""Accounts: who signs in, with which roles, at which home unit; their pages, import and command.

rules.py holds the password policy, roles and who may change whom; views.py the
administration pages (on the ``admin`` blueprint); imports.py the spreadsheet
import; ``flask --app app create-user`` is defined with the views.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the account pages to the admin blueprint and register ``create-user``.

    Call before ``admin.init_app``, which registers the blueprint.
    """
    # Imported here, not at the top: the views pull in the web layer (the admin blueprint,
    # the templates' helpers), which the rules and the command do not need.
    from coso.users import views

    app.cli.add_command(views.create_user)
