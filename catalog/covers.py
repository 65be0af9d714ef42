"""Cover images, shared by the API and the admin: a real JPEG, PNG or WebP of at most 5 MB and 40 megapixels,
stored re-encoded.

The pixel count is read from the header and checked before anything is decoded: a 17 KB PNG
can claim 12000 × 12000 pixels and take half a gigabyte to decode (a decompression bomb).
What is stored is the decoded image saved again in its own format, so no metadata (EXIF with
a location, text chunks, colour profiles) and no bytes appended to the file survive.
"""

import datetime
import io
import uuid
import warnings
from typing import Any

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

MAX_COVER_BYTES = 5 * 1024 * 1024
MAX_COVER_PIXELS = 40_000_000
ALLOWED_COVER_FORMATS = {"JPEG", "PNG", "WEBP"}
_SAVE_OPTIONS: dict[str, dict[str, Any]] = {"JPEG": {"quality": 90}, "PNG": {"optimize": True}, "WEBP": {"quality": 90}}
_NOT_AN_IMAGE = "Upload a valid JPEG, PNG or WebP image."


class CoverTooLargeError(ValueError):
    pass


class CoverTooManyPixelsError(ValueError):
    pass


class NotACoverImageError(ValueError):
    pass


def check_cover_image(image) -> str:
    """Returns the Pillow format name (JPEG/PNG/WEBP) of an uploaded file, or raises.

    Pillow reads the header (the pixel count is checked there, before any decoding) and verifies
    the file, so a renamed text file or a truncated image fails; the content type and file name
    sent by the client are not trusted.
    """
    if image.size > MAX_COVER_BYTES:
        raise CoverTooLargeError(f"A cover may be at most {MAX_COVER_BYTES // (1024 * 1024)} MB.")
    try:
        image.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own, lower cap follows
            with Image.open(image) as picture:
                image_format = picture.format
                width, height = picture.size
                if width * height > MAX_COVER_PIXELS:
                    raise CoverTooManyPixelsError(
                        f"A cover may have at most {MAX_COVER_PIXELS // 1_000_000} megapixels; "
                        f"this one has {width} × {height}."
                    )
                picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise NotACoverImageError(_NOT_AN_IMAGE) from None
    except ValueError as error:
        if isinstance(error, CoverTooManyPixelsError):
            raise
        raise NotACoverImageError(_NOT_AN_IMAGE) from None
    finally:
        image.seek(0)
    if image_format not in ALLOWED_COVER_FORMATS:
        raise NotACoverImageError(_NOT_AN_IMAGE)
    return image_format


def cover_reencoded(image, image_format: str) -> ContentFile:
    """The checked upload (`check_cover_image`) decoded and saved again in `image_format`: pixels only.

    The first frame of an animated image; no EXIF, text chunks or ICC profile.
    """
    image.seek(0)
    try:
        with Image.open(image) as picture:
            picture.seek(0)
            picture.load()
            pixels: Image.Image = picture
            if picture.mode == "P":  # a palette: as colours (and alpha, if it has transparency)
                pixels = picture.convert("RGBA" if "transparency" in picture.info else "RGB")
            # A new image holds the pixels alone: Pillow would write metadata found in `info` back.
            clean = Image.new(pixels.mode, pixels.size)
            clean.paste(pixels)
            buffer = io.BytesIO()
            clean.save(buffer, format=image_format, **_SAVE_OPTIONS[image_format])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise NotACoverImageError(_NOT_AN_IMAGE) from None
    finally:
        image.seek(0)
    return ContentFile(buffer.getvalue())


# A cover chosen on a form that came back with an error elsewhere (the admin's add-book form): the
# browser does not send the file again, so the checked, re-encoded image waits in the storage the
# covers use, named by a signed token that the form carries in a hidden input until it is saved.
KEPT_COVERS = "covers/kept/"
KEPT_FOR_SECONDS = 24 * 3600
_KEPT_SALT = "catalog.covers.kept"
_KEPT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def cover_keep(content: ContentFile, image_format: str, *, user_id: int | None) -> tuple[str, str]:
    """Stores a checked cover until its form is saved; returns (the token for the form, the stored name).

    Kept covers older than a day (forms given up on) are dropped here.
    """
    _drop_stale_kept_covers()
    content.seek(0)
    name = default_storage.save(f"{KEPT_COVERS}{uuid.uuid4().hex}.{_KEPT_EXTENSIONS[image_format]}", content)
    return signing.dumps({"name": name, "user": user_id}, salt=_KEPT_SALT), name


def cover_kept(token: str, *, user_id: int | None) -> tuple[ContentFile, str, str] | None:
    """The cover a token names (content, Pillow format, stored name), checked again; None for a token
    that is forged, another user's, too old, or names a cover no longer kept."""
    if not token:
        return None
    try:
        payload = signing.loads(token, salt=_KEPT_SALT, max_age=KEPT_FOR_SECONDS)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not isinstance(payload, dict) or payload.get("user") != user_id:
        return None
    name = str(payload.get("name", ""))
    if not name.startswith(KEPT_COVERS) or ".." in name:
        return None
    try:
        with default_storage.open(name) as stored:
            content = ContentFile(stored.read())
    except OSError:
        return None
    try:
        image_format = check_cover_image(content)
    except ValueError:
        return None
    return content, image_format, name


def cover_kept_drop(name: str) -> None:
    if name.startswith(KEPT_COVERS):
        default_storage.delete(name)


def _drop_stale_kept_covers() -> None:
    try:
        _, names = default_storage.listdir(KEPT_COVERS)
    except OSError:  # none kept yet
        return
    cutoff = timezone.now() - datetime.timedelta(seconds=KEPT_FOR_SECONDS)
    for name in names:
        path = f"{KEPT_COVERS}{name}"
        try:
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
        except OSError:
            continue
