"""user.search: username and display name as searches compare them

The users list compared ``lower(display_name)`` with a query lower-cased in Python, and
SQLite's lower() folds only A–Z: "Nguyễn" never matched "nguyễn", and "nguyen" never
matched at all. Each user now keeps the keys of its username and display name (lower
case, no accents, đ as d: coso.users.rules.user_search_key), written by the application
with every user; this migration fills it for the users already there.

Revision ID: f2b8d4c6a1e3
Revises: e4a7c2b9d1f6
Create Date: 2026-12-05 12:30:00

"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "f2b8d4c6a1e3"
down_revision = "e4a7c2b9d1f6"
branch_labels = None
depends_on = None

user = sa.table(
    "user",
    sa.column("id", sa.Integer),
    sa.column("username"),
    sa.column("display_name"),
    sa.column("search"),
)


def _key(text: str) -> str:
    """The search key as of this revision (a copy: a later change of the rule gets its own
    migration, and this one must keep producing what the application wrote then)."""
    out: list[str] = []
    space = False
    for char in unicodedata.normalize("NFD", text or "").lower():
        category = unicodedata.category(char)
        if category[0] == "M" or category == "Cf":
            continue
        if category[0] == "Z" or category == "Cc":
            space = bool(out)
            continue
        if space:
            out.append(" ")
            space = False
        out.append("d" if char == "đ" else char)
    return "".join(out)


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search", sa.Text(), server_default="", nullable=False))
    conn = op.get_bind()
    rows = conn.execute(sa.select(user.c.id, user.c.username, user.c.display_name)).all()
    for start in range(0, len(rows), 1000):
        conn.execute(
            user.update().where(user.c.id == sa.bindparam("uid")).values(search=sa.bindparam("key")),
            [
                {"uid": r.id, "key": f"{_key(r.username)}\n{_key(r.display_name)}"}
                for r in rows[start : start + 1000]
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("search")
