"""Photos of field reports: checked by their bytes, refused when too large in bytes or pixels, turned upright
(EXIF orientation), their GPS position read, then re-encoded to a JPEG of at most LONG_SIDE pixels that carries no
metadata at all (no EXIF, no GPS, no ICC profile, no comment): what a phone writes about a person stays with them.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from portal.core.errors import InvalidInput

MAX_PHOTO_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000  # a 48-megapixel phone photo passes; a "pixel bomb" does not
LONG_SIDE = 1600
JPEG_QUALITY = 85
ACCEPTED = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class PhotoRefused(InvalidInput):
    """The file is not a photo the portal takes; `message` says why, in the person's language."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int
    position: tuple[float, float] | None  # (latitude, longitude) from the photo's EXIF GPS, if it had one
    content_type: str = "image/jpeg"


def sniff(head: bytes) -> str | None:
    """The image type the bytes really are, among JPEG, PNG and WebP; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_photo(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> CleanPhoto:
    """Check one uploaded photo and return it re-encoded without metadata; PhotoRefused says why not."""
    if not data:
        raise PhotoRefused(_("The file is empty."))
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused(_("The photo is larger than %(mb)d MB.", mb=MAX_PHOTO_BYTES // 2**20))
    content_type = sniff(data[:16])
    if content_type is None:
        raise PhotoRefused(_("The file is not a JPEG, PNG or WebP photo."))
    image = _open(data, content_type, max_pixels)
    try:
        position = gps_position(image.getexif())
        upright = _decoded(image)
    finally:
        image.close()
    return _encoded(upright, position)


def _open(data: bytes, content_type: str, max_pixels: int) -> Image.Image:
    """The image with only its header read; refused when it claims more pixels than allowed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[ACCEPTED[content_type]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(_too_many_pixels(max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoRefused(_("The photo could not be read: the file is damaged or not an image.")) from None
    if image.width * image.height > max_pixels or image.width < 1 or image.height < 1:
        image.close()
        raise PhotoRefused(_too_many_pixels(max_pixels))
    return image


def _too_many_pixels(max_pixels: int) -> str:
    return _("The photo has too many pixels (at most %(mp)d megapixels).", mp=max_pixels // 1_000_000)


def _decoded(image: Image.Image) -> Image.Image:
    """The pixels, decoded (JPEG at a reduced scale when that is enough), turned upright, in RGB."""
    if image.format == "JPEG":
        image.draft("RGB", (LONG_SIDE, LONG_SIDE))  # decodes at 1/2, 1/4 or 1/8 scale: far less memory
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            return _rgb(upright)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
        raise PhotoRefused(_("The photo could not be read: the file is damaged or not an image.")) from None


def _rgb(image: Image.Image) -> Image.Image:
    """RGB pixels; a transparent background becomes white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _encoded(image: Image.Image, position: tuple[float, float] | None) -> CleanPhoto:
    image.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    # A new image from the bare pixels: nothing of the original's `info` (EXIF, ICC profile, comment) follows.
    bare = Image.frombytes("RGB", image.size, image.tobytes())
    out = io.BytesIO()
    bare.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPhoto(out.getvalue(), bare.width, bare.height, position)


def gps_position(exif: Image.Exif) -> tuple[float, float] | None:
    """(latitude, longitude) from EXIF GPS tags, or None when absent, malformed or out of range."""
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except (KeyError, ValueError, TypeError, OSError, SyntaxError):
        return None
    latitude = _coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
    longitude = _coordinate(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if latitude is None or longitude is None or not valid_position(latitude, longitude):
        return None
    if latitude == 0 and longitude == 0:  # what some cameras write when they had no fix
        return None
    return latitude, longitude


def _coordinate(value: Any, ref: Any, negative: str) -> float | None:
    try:
        degrees, minutes, seconds = (Fraction(str(float(part))) for part in value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    number = float(degrees + minutes / 60 + seconds / 3600)
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -number if str(ref or "").strip().upper() == negative else number


def valid_position(latitude: float, longitude: float) -> bool:
    return -90 <= latitude <= 90 and -180 <= longitude <= 180
