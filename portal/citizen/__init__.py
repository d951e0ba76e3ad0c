"""The citizen's side of the portal: apply, follow one's dossiers, answer requests, withdraw, rate.

`register_blueprints` adds the public pages that go with it too: the catalogue, attachments and tracking.
"""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from portal.attachments.views import bp as attachments_bp
    from portal.catalogue.views import bp as catalogue_bp
    from portal.citizen.views import bp as citizen_bp
    from portal.tracking.views import bp as tracking_bp

    for blueprint in (catalogue_bp, citizen_bp, attachments_bp, tracking_bp):
        app.register_blueprint(blueprint)
