"""A one-stop-shop document as an A4 PDF: the same template as its HTML page, laid out for paper by WeasyPrint
(Debian's Pango, Noto fonts embedded), with the verification QR code, the short code and the signature block.

Nothing is fetched while rendering: the page's only image (the QR code) is a data: URI, and WeasyPrint is
given a fetcher that refuses every other scheme, so no value of a dossier can make the renderer read a file or
open a connection.
"""

from __future__ import annotations

import base64
from datetime import datetime
from io import BytesIO

from flask import current_app
from flask_babel import force_locale

from portal.models import Dossier

from . import services

LAYOUT = "documents/_pdf.html"


def verify_url(code: str) -> str:
    return f"{current_app.config['PORTAL_BASE_URL'].rstrip('/')}/verify/{code}"


def qr_data_uri(text: str) -> str:
    """The QR code of `text` as an SVG data: URI (medium error correction: it survives a fold or a stamp)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
    )
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def render_html(dossier: Dossier, kind: str, *, code: str, signed_at: datetime) -> str:
    """The document's HTML for paper (in the application's default language: Vietnamese)."""
    url = verify_url(code)
    # The official language whoever's request queued it; no request's context processors (a Celery job has none).
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        context = services.document_context(dossier, kind)
        template = current_app.jinja_env.get_template(f"documents/{kind}.html")
        return template.render(
            layout=LAYOUT,
            code=code,
            signed_at=signed_at,
            verify_url=url,
            qr_data_uri=qr_data_uri(url),
            can_answer=False,
            issued=None,
            **context,
        )


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    data: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return data


def render_pdf(dossier: Dossier, kind: str, *, code: str, signed_at: datetime) -> bytes:
    return html_to_pdf(render_html(dossier, kind, code=code, signed_at=signed_at))
