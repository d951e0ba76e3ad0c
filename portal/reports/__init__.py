"""Citizen field reports ("phản ánh hiện trường"): a citizen reports a problem in town from a phone with photos and
the place; the agencies answer; the report, its answer and its photos are shown publicly (without personal data).

This first slice: the model, photo cleaning, the citizen's pages (/reports/new, /my/reports) and the public pages
(/public/reports). The BPMN routing, the officers' inbox, triage and the map come in a later slice.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import public_views, views  # noqa: F401  (their routes are on the blueprint)
    from .blueprint import bp

    app.register_blueprint(bp)
