"""Cover image checks shared by the API and the admin: a real JPEG, PNG or WebP of at most 5 MB."""

from PIL import Image, UnidentifiedImageError

MAX_COVER_BYTES = 5 * 1024 * 1024
ALLOWED_COVER_FORMATS = {"JPEG", "PNG", "WEBP"}


class CoverTooLargeError(ValueError):
    pass


class NotACoverImageError(ValueError):
    pass


def check_cover_image(image) -> str:
    """Returns the Pillow format name (JPEG/PNG/WEBP) of an uploaded file, or raises.

    Pillow opens and verifies the file, so a renamed text file or a truncated image fails;
    the content type and file name sent by the client are not trusted.
    """
    if image.size > MAX_COVER_BYTES:
        raise CoverTooLargeError(f"A cover may be at most {MAX_COVER_BYTES // (1024 * 1024)} MB.")
    try:
        image.seek(0)
        with Image.open(image) as picture:
            image_format = picture.format
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise NotACoverImageError("Upload a valid JPEG, PNG or WebP image.") from None
    finally:
        image.seek(0)
    if image_format not in ALLOWED_COVER_FORMATS:
        raise NotACoverImageError("Upload a valid JPEG, PNG or WebP image.")
    return image_format
