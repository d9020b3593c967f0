"""The photo pipeline: from an upload's bytes to two metadata-free JPEG derivatives (display and
thumbnail), plus the orientation-corrected size, capture time and position the original records.

`process_photo` runs it in order:

1. refuse what is not a photo or not safe to decode: size, empty, type (magic bytes), polyglots,
   truncation, metadata padding and decompression bombs, all from the header (`media.inspect`)
   before a pixel is decoded;
2. open with the one Pillow decoder the magic bytes named, check the size Pillow reads;
3. decode once: a JPEG through `draft`, libjpeg's DCT scaling by 1/2, 1/4 or 1/8, straight to
   about display size (a 12 MP photo is decoded at 2016x1512, never at full size; DESIGN §6);
   PNG, WebP and HEIC in full. Truncation shows here, by decoding, never by `verify()`. Read
   the EXIF (`media.exif`): orientation, capture time (its own offset, else the town's zone),
   position; anything odd in it reads as absent, a camera's wrong clock must not refuse a photo;
4. display image: flatten (alpha on white, palette, 16-bit), shrink to fit DISPLAY_MAX, convert
   an embedded ICC profile to sRGB, apply the EXIF orientation;
5. encode it as a JPEG from pixels with an empty `info`, so no EXIF (GPS), ICC, XMP or comment
   of the original can reach it; then shrink that image, not the original, to the thumbnail.

It is synchronous, CPU-bound and thread-safe (the API runs it with `anyio.to_thread.run_sync`;
Pillow's codecs release the GIL): each call works on its own images and changes no global state.
Import-time setup only: DecompressionBombWarning becomes an error, the HEIF opener is registered.

Every refusal is a domain error with a sentence for people and `extra["reason"]` for programs:
too_large (413), unsupported_type (415), and with 422: empty, decompression_bomb, truncated,
corrupt, metadata_too_large, polyglot. Nothing else escapes: whatever Pillow or libheif raise
while reading a file becomes "truncated" or "corrupt".
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Final

import pillow_heif
from PIL import Image, ImageCms, WebPImagePlugin  # noqa: F401  (registers WEBP: no lazy init())

from api.errors import DomainError, InputInvalidError, PayloadTooLargeError
from media.exif import read_metadata
from media.inspect import (
    KINDS,
    MAX_PIXELS,
    SNIFF_BYTES,
    Kind,
    check_info,
    check_pixels,
    check_polyglot,
    corrupt,
    header_size,
    invalid,
    sniff,
    truncated,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DISPLAY_MAX",
    "MAX_PIXELS",
    "THUMB_MAX",
    "ProcessedPhoto",
    "Rendition",
    "draft_scale",
    "process_photo",
    "sniff",
]

log = logging.getLogger("fieldloop.media")

warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
pillow_heif.register_heif_opener()

DISPLAY_MAX: Final = 2048  # display derivative: longest side at most this
THUMB_MAX: Final = 320  # thumbnail: longest side at most this
DEFAULT_MAX_BYTES: Final = 25_000_000
DRAFT_MIN: Final = 1536  # a DCT reduction leaving the long side below this is one step too far
DISPLAY_QUALITY: Final = 82
THUMB_QUALITY: Final = 80
# 2016 → 320 with a gap of 1.5: box-reduce by 4, then LANCZOS 504 → 320; 5 ms where Pillow's
# default 2.0 takes 9, and within half a level (of 255) of LANCZOS from the display image alone.
THUMB_REDUCING_GAP: Final = 1.5

_RESAMPLE: Final = Image.Resampling.LANCZOS
_TRANSPOSE: Final = {  # EXIF orientation → the transpose that shows it upright (as exif_transpose)
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclass(frozen=True)
class Rendition:
    """A derivative, ready to store: JPEG bytes with no metadata but the JFIF header."""

    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ProcessedPhoto:
    format: str  # "jpeg" | "png" | "webp" | "heic"
    content_type: str
    width: int  # of the original, after its EXIF orientation
    height: int
    taken_at: datetime | None  # tz-aware
    lat: float | None
    lng: float | None
    display: Rendition
    thumb: Rendition


def process_photo(
    data: bytes, *, zone: tzinfo = UTC, max_bytes: int = DEFAULT_MAX_BYTES
) -> ProcessedPhoto:
    """Check, decode once and derive; `zone` is where a capture time without offset was taken."""
    if not data:
        raise invalid("empty", "The file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise PayloadTooLargeError(
            f"The file is {_mb(len(data))}; the limit is {_mb(max_bytes)}.",
            reason="too_large",
            size=len(data),
            limit=max_bytes,
        )
    kind = KINDS[sniff(data[:SNIFF_BYTES])]
    check_polyglot(data, kind)
    size = header_size(kind, data)
    if size:
        check_pixels(*size)
    try:
        return _process(data, kind, zone)
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _bomb(error) from error
    except Exception as error:  # Pillow, libjpeg, libheif, zlib, struct, MemoryError, ...
        log.debug("refused a %s: %r", kind.label, error)
        raise _decode_error(kind, error) from error


def draft_scale(width: int, height: int) -> int:
    """The DCT reduction (1, 2, 4 or 8) to decode a JPEG of this size at: the least one that fits
    DISPLAY_MAX, unless that leaves the long side under DRAFT_MIN, then one step less (and the
    display image is shrunk after decoding)."""
    longest, scale = max(width, height), 1
    while scale < 8 and -(-longest // scale) > DISPLAY_MAX:
        scale *= 2
    if scale > 1 and -(-longest // scale) < DRAFT_MIN:
        scale //= 2
    return scale


def draft_box(width: int, height: int, scale: int) -> tuple[int, int]:
    """The size to pass to `draft` for `scale`: it picks min(w // bw, h // bh), rounded down to
    8, 4, 2 or 1, so the box keeps the photo's aspect ratio."""
    return max(1, width // scale), max(1, height // scale)


def _process(data: bytes, kind: Kind, zone: tzinfo) -> ProcessedPhoto:
    with Image.open(io.BytesIO(data), formats=[kind.pillow_format]) as original:
        if original.format not in kind.pillow_reports:
            raise corrupt(kind.label, f"it does not decode as {kind.label}")
        width, height = original.size
        check_pixels(width, height)
        check_info(kind, original.info)
        icc = original.info.get("icc_profile")
        if kind.name == "jpeg" and (scale := draft_scale(width, height)) > 1:
            original.draft("RGB", draft_box(width, height, scale))
        original.load()
        metadata = read_metadata(_exif(original), zone)
        picture = _display_pixels(original, icc if isinstance(icc, bytes) else None)
    if metadata.orientation in _TRANSPOSE:
        picture = picture.transpose(_TRANSPOSE[metadata.orientation])
        if metadata.orientation >= 5:
            width, height = height, width
    display = _encode(picture, DISPLAY_QUALITY)
    thumb = _encode(_shrink(picture, THUMB_MAX, THUMB_REDUCING_GAP), THUMB_QUALITY)
    return ProcessedPhoto(
        format=kind.name,
        content_type=kind.content_type,
        width=width,
        height=height,
        taken_at=metadata.taken_at,
        lat=metadata.lat,
        lng=metadata.lng,
        display=display,
        thumb=thumb,
    )


def _exif(image: Image.Image) -> Image.Exif:
    try:
        return image.getexif()
    except Exception:  # an unreadable EXIF block is no EXIF
        return Image.Exif()


def _display_pixels(original: Image.Image, icc: bytes | None) -> Image.Image:
    """RGB pixels in sRGB, longest side at most DISPLAY_MAX, in a new image with no `info`."""
    picture = original
    if picture.mode not in ("RGB", "L", "CMYK") or picture.has_transparency_data:
        picture = _flatten(picture)
    picture = _to_srgb(_shrink(picture, DISPLAY_MAX), icc)
    if picture is original:
        picture = original.copy()
    picture.info = {}  # JPEG save copies `comment` from info; nothing of the original may pass
    return picture


def _flatten(image: Image.Image) -> Image.Image:
    """RGB (or L) from any mode: alpha composited on white, palettes expanded, 16-bit scaled."""
    if image.mode.startswith("I") or image.mode == "F":
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.has_transparency_data:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _shrink(picture: Image.Image, limit: int, reducing_gap: float = 2.0) -> Image.Image:
    """`thumbnail((limit, limit))` without touching `picture`: aspect kept, never enlarged.
    Pillow reduces by an integer factor first (fast box averaging), then LANCZOS covers the
    last `reducing_gap` times."""
    width, height = picture.size
    if max(width, height) <= limit:
        return picture
    if width >= height:
        size = (limit, max(1, round(height * limit / width)))
    else:
        size = (max(1, round(width * limit / height)), limit)
    return picture.resize(size, _RESAMPLE, reducing_gap=reducing_gap)


@lru_cache(maxsize=32)
def _srgb_transform(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from an embedded profile to sRGB, or None when it is sRGB already, does not
    match the pixels' mode, or is broken (then the pixels are taken as sRGB)."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if profile.profile.xcolor_space.strip() != mode:
            return None
        if mode == "RGB" and "srgb" in (profile.profile.profile_description or "").lower():
            return None
        return ImageCms.buildTransform(profile, _SRGB, mode, "RGB")
    except Exception:
        return None


def _to_srgb(picture: Image.Image, icc: bytes | None) -> Image.Image:
    if icc and picture.mode in ("RGB", "CMYK"):
        transform = _srgb_transform(icc, picture.mode)
        if transform is not None:
            try:
                return ImageCms.applyTransform(picture, transform) or picture
            except Exception as error:
                log.debug("ignored an ICC profile that failed to apply: %r", error)
    return picture if picture.mode == "RGB" else picture.convert("RGB")


def _encode(picture: Image.Image, quality: int) -> Rendition:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return Rendition(buffer.getvalue(), *picture.size)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:,.1f}".removesuffix(".0") + " MB"


def _bomb(error: Exception) -> InputInvalidError:
    pixels = re.search(r"\((\d+) pixels\)", str(error))
    count = f"{int(pixels[1]) / 1e6:,.1f} megapixels" if pixels else "too many pixels"
    return invalid(
        "decompression_bomb",
        f"The image has {count}; the limit is {MAX_PIXELS / 1e6:.0f} megapixels, so it is "
        "refused as a possible decompression bomb.",
        limit=MAX_PIXELS,
    )


_TRUNCATION = ("truncated", "premature end", "end of data", "end of file", "not enough data")


def _decode_error(kind: Kind, error: Exception) -> InputInvalidError:
    message = str(error).lower()
    if isinstance(error, EOFError) or any(sign in message for sign in _TRUNCATION):
        return truncated(kind.label, "it ends before its image data does")
    if isinstance(error, Image.UnidentifiedImageError):
        return corrupt(kind.label, f"it starts like a {kind.label} but does not read as one")
    return corrupt(kind.label, "it cannot be decoded")
