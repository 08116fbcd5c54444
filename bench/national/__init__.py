"""``make bench-national``: the national scale on PostgreSQL (issue 22, item 2).

``generate`` builds (once, then caches) the database ``coso_bench_national``: a central
unit, its provinces, communes and branches, a year of evaluations with their answers,
feedback, visit days, corrective actions and each branch's flag, written with ``COPY`` and
set-based SQL (never the ORM). ``measure`` times the pages at the server, as
``bench/dashboard.py`` does. ``python -m bench.national`` runs both.
"""
