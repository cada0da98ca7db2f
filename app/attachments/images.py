"""Images with Pillow: an upload that claims to be an image must open as that format within a
pixel limit (read from its header, before anything is decoded); thumbnails are JPEGs of at
most THUMBNAIL_SIDE pixels a side, decoded at a reduced scale where the format allows (JPEG's
draft mode), else only for images of at most ``thumbnail_pixels`` pixels."""

import struct
import tempfile
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.attachments import sniffing

THUMBNAIL_SIDE = 320
FORMATS = {sniffing.JPEG: "JPEG", sniffing.PNG: "PNG", sniffing.GIF: "GIF",
           sniffing.WEBP: "WEBP"}


class ImageRefused(Exception):
    """``reason``: "bomb" (too many pixels) or "broken" (not the image it claims to be)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Size:
    width: int
    height: int


def _open(stream, max_pixels: int) -> Image.Image:
    """Pillow's decompression-bomb guard set to ``max_pixels`` and made an error."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(stream)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused("bomb") from None


def check(stream, content_type: str, max_pixels: int) -> Size:
    """The image's size, once its header says it is ``content_type`` within ``max_pixels``;
    raises ImageRefused. Nothing is decoded (PNG chunks' checksums are verified)."""
    try:
        image = _open(stream, max_pixels)
        with image:
            if image.format != FORMATS[content_type]:
                raise ImageRefused("broken")
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise ImageRefused("bomb")
            image.verify()
            return Size(width, height)
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            struct.error):
        raise ImageRefused("broken") from None
    finally:
        stream.seek(0)


def thumbnail(stream, content_type: str, size: Size, max_pixels: int,
              thumbnail_pixels: int):
    """A JPEG thumbnail (a spooled file, at its start) or None when the image is too large to
    decode for one, or cannot be decoded."""
    try:
        image = _open(stream, max_pixels)
        with image:
            if content_type == sniffing.JPEG:
                image.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))
            elif size.width * size.height > thumbnail_pixels:
                return None
            image.seek(0)
            image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            small = ImageOps.exif_transpose(image)
            flat = _flattened(small)
            out = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
            flat.save(out, "JPEG", quality=82, optimize=True)
            out.seek(0)
            return out
    except (ImageRefused, UnidentifiedImageError, OSError, SyntaxError, ValueError,
            EOFError, struct.error):
        return None
    finally:
        stream.seek(0)


def _flattened(image: Image.Image) -> Image.Image:
    """RGB, transparency laid on white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        ground = Image.new("RGB", rgba.size, (255, 255, 255))
        ground.paste(rgba, mask=rgba.getchannel("A"))
        return ground
    return image.convert("RGB")

