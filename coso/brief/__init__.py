"""The brief before leaving (issue 18, item 4): what a cadre reads about a branch before going.

The same plain dicts feed the field pack (offline, drawn by static/js/checklist.js) and the
online checklist (templates/evaluations/_brief.html), so the two show the same facts.
"""
