"""A one-stop-shop document as an A4 PDF: the same template as its HTML page, laid out for paper by WeasyPrint
(Debian's Pango, Noto fonts embedded), with the verification QR code, the short code and the signature block.

Nothing is fetched while rendering: the page's only image (the QR code) is a data: URI, and WeasyPrint is
given a fetcher that refuses every other scheme, so no value of a dossier can make the renderer read a file or
open a connection.
"""

from __future__ import annotations

import base64
import threading
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
    """The QR code of `text` as a PNG data: URI, one pixel per module (medium error correction: it survives a fold
    or a stamp). A PNG, not an SVG: WeasyPrint draws an SVG QR code path by path (~60-90 ms a page); the paper
    layout scales the image up without smoothing (`image-rendering: pixelated`)."""
    import qrcode
    from qrcode.image.pil import PilImage  # Pillow: WeasyPrint's own dependency

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=1)
    code.add_data(text)
    code.make(fit=True)
    buffer = BytesIO()
    code.make_image(image_factory=PilImage).save(buffer)  # PNG
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


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


_local = threading.local()


def _font_config():
    """One WeasyPrint FontConfiguration per thread, kept between documents: its Pango font map keeps the fonts
    it has loaded and the shaping caches (a new one per document costs ~100 ms). Pango's objects are not shared
    between threads."""
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _local.font_config = FontConfiguration()
    return config


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    data: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(font_config=_font_config())
    return data


def render_pdf(dossier: Dossier, kind: str, *, code: str, signed_at: datetime) -> bytes:
    return html_to_pdf(render_html(dossier, kind, code=code, signed_at=signed_at))
