"""Images for tests: good photos in every accepted format, with the EXIF, ICC and XMP phones
write, and a corpus of bad files (`BAD_FILES`) built the way attackers build them, from
hand-written chunks and segments. All small and fast to make, all in memory."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from api.errors import DomainError
from media.pipeline import process_photo

CORNERS = {  # colours of the corner blocks every test photo has, to see where they end up
    "top_left": (230, 30, 30),
    "top_right": (30, 200, 30),
    "bottom_left": (30, 30, 230),
    "bottom_right": (240, 220, 20),
}
BACKGROUND = (128, 128, 128)


def photo_image(
    width: int = 640, height: int = 480, color: tuple[int, int, int] = BACKGROUND
) -> Image.Image:
    """`color` with a coloured block (a quarter of each side) in each corner, named by CORNERS."""
    image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    bw, bh = max(1, width // 4), max(1, height // 4)
    draw.rectangle((0, 0, bw - 1, bh - 1), fill=CORNERS["top_left"])
    draw.rectangle((width - bw, 0, width - 1, bh - 1), fill=CORNERS["top_right"])
    draw.rectangle((0, height - bh, bw - 1, height - 1), fill=CORNERS["bottom_left"])
    draw.rectangle((width - bw, height - bh, width - 1, height - 1), fill=CORNERS["bottom_right"])
    return image


def _dms(value: float) -> tuple[float, float, float]:
    seconds = round(value * 3600, 4)
    degrees, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return degrees, minutes, round(seconds, 4)


def exif_block(
    *,
    orientation: int | None = None,
    gps: tuple[float, float] | dict[int, Any] | None = None,
    taken_at: datetime | str | None = None,
    offset: str | None = None,
    exif_extra: dict[int, Any] | None = None,
) -> Image.Exif:
    """EXIF as a phone writes it. `gps` is (lat, lng) in degrees, or a raw GPS IFD (garbage);
    `taken_at` is a datetime (an aware one also writes its offset) or DateTimeOriginal text as
    is ("2024:05:01 14:30:00", or garbage); `offset` is OffsetTimeOriginal text ("+02:00");
    `exif_extra` goes into the Exif IFD (e.g. a MakerNote)."""
    if isinstance(taken_at, datetime):
        if offset is None and (delta := taken_at.utcoffset()) is not None:
            minutes = int(delta.total_seconds()) // 60
            offset = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02}:{abs(minutes) % 60:02}"
        taken_at = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fieldloop Test Camera"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if isinstance(gps, dict):
        exif[ExifTags.IFD.GPSInfo] = gps
    elif gps is not None:
        lat, lng = gps
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N" if lat >= 0 else "S",
            ExifTags.GPS.GPSLatitude: _dms(abs(lat)),
            ExifTags.GPS.GPSLongitudeRef: "E" if lng >= 0 else "W",
            ExifTags.GPS.GPSLongitude: _dms(abs(lng)),
        }
    sub: dict[int, Any] = dict(exif_extra or {})
    if taken_at is not None:
        sub[ExifTags.Base.DateTimeOriginal] = taken_at
    if offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    if sub:
        exif[ExifTags.IFD.Exif] = sub
    return exif


def photo_jpeg(
    width: int = 640,
    height: int = 480,
    *,
    orientation: int | None = None,
    gps: tuple[float, float] | dict[int, Any] | None = None,
    taken_at: datetime | str | None = None,
    offset: str | None = None,
    exif_extra: dict[int, Any] | None = None,
    color: tuple[int, int, int] = BACKGROUND,
    icc: bytes | None = None,
    xmp: bytes | None = None,
    comment: bytes | None = None,
    image: Image.Image | None = None,
    quality: int = 90,
    progressive: bool = False,
) -> bytes:
    """A JPEG of `photo_image` (or `image`) with the metadata asked for (see `exif_block`)."""
    image = image or photo_image(width, height, color)
    exif = exif_block(
        orientation=orientation, gps=gps, taken_at=taken_at, offset=offset, exif_extra=exif_extra
    )
    options: dict[str, Any] = {"quality": quality, "progressive": progressive, "exif": exif}
    for key, value in (("icc_profile", icc), ("xmp", xmp), ("comment", comment)):
        if value is not None:
            options[key] = value
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def png_bytes(
    width: int = 640,
    height: int = 480,
    *,
    image: Image.Image | None = None,
    exif: Image.Exif | None = None,
    text: dict[str, str] | None = None,
) -> bytes:
    image = image or photo_image(width, height)
    info = PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, **({"exif": exif} if exif else {}))
    return buffer.getvalue()


def webp_bytes(
    width: int = 640, height: int = 480, *, exif: Image.Exif | None = None, lossless: bool = False
) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 85, "lossless": lossless}
    if exif:
        options["exif"] = exif
    photo_image(width, height).save(buffer, "WEBP", **options)
    return buffer.getvalue()


def heic_bytes(width: int = 640, height: int = 480, *, exif: Image.Exif | None = None) -> bytes:
    """A HEIC through pillow-heif's encoder (x265); its orientation goes into the container."""
    import media.pipeline  # noqa: F401  (registers pillow-heif's opener and encoder)

    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 80}
    if exif:
        options["exif"] = exif.tobytes()
    photo_image(width, height).save(buffer, "HEIF", **options)
    return buffer.getvalue()


def mpo_bytes(width: int = 640, height: int = 480) -> bytes:
    """A multi-picture JPEG (MPF), as phones write for depth maps and gain maps."""
    buffer = io.BytesIO()
    first, second = photo_image(width, height), photo_image(width // 2, height // 2)
    first.save(buffer, "MPO", save_all=True, append_images=[second], quality=90)
    return buffer.getvalue()


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    photo_image(64, 48).convert("P").save(buffer, "GIF")
    return buffer.getvalue()


# ICC: a matrix/TRC RGB monitor profile written by hand (ImageCms can only create sRGB).
SRGB_COLORANTS = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))
DISPLAY_P3_COLORANTS = (
    (0.5151, 0.2412, -0.0011),
    (0.2920, 0.6922, 0.0419),
    (0.1571, 0.0666, 0.7841),
)
SWAPPED_RG_COLORANTS = (SRGB_COLORANTS[1], SRGB_COLORANTS[0], SRGB_COLORANTS[2])


def _s15(values: tuple[float, ...]) -> bytes:
    return b"".join(struct.pack(">i", round(v * 65536)) for v in values)


def rgb_icc_profile(
    colorants: tuple[tuple[float, float, float], ...] = DISPLAY_P3_COLORANTS,
    description: str = "Display P3 (Fieldloop test)",
    gamma: float = 2.2,
) -> bytes:
    """An ICC v2 RGB display profile with these red, green, blue colorants (D50 XYZ)."""
    text = description.encode("ascii") + b"\x00"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    xyz = [b"XYZ \0\0\0\0" + _s15(c) for c in ((0.9642, 1.0, 0.8249), *colorants)]
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"cprt", b"text\0\0\0\0Public domain\0"),
        (b"wtpt", xyz[0]),
        (b"rXYZ", xyz[1]),
        (b"gXYZ", xyz[2]),
        (b"bXYZ", xyz[3]),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + _s15((0.9642, 1.0, 0.8249))
        + bytes(48)
    )
    return header + struct.pack(">I", len(tags)) + table + body


# Hostile and broken files.
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>\n"
)
HTML_PAGE = b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>\n"
XML_DOCUMENT = b'<?xml version="1.0"?>\n<note><to>crew</to></note>\n'
PLAIN_TEXT = b"Pothole on Main Street, about a metre wide.\nPlease send a crew.\n"
AVIF_LIKE = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64)
TIFF_LIKE = b"II*\x00\x08\x00\x00\x00" + bytes(64)
BMP_LIKE = b"BM" + struct.pack("<I", 70) + bytes(4) + struct.pack("<I", 54) + bytes(56)
PDF_LIKE = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def truncated_file(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_insert(data: bytes, *segments: bytes, before_scan: bool = False) -> bytes:
    """Segments inserted after SOI, or just before the first scan (SOS)."""
    at = data.index(b"\xff\xda") if before_scan else 2
    return data[:at] + b"".join(segments) + data[at:]


def jpeg_padded(count: int = 20, size: int = 65_533) -> bytes:
    """A JPEG whose header carries `count` APP1 segments of `size` bytes of filler."""
    filler = jpeg_segment(0xE1, b"http://example.com/padding\x00" + b"x" * (size - 29))
    return jpeg_insert(photo_jpeg(64, 48), *([filler] * count))


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims another size: a JPEG bomb's header."""
    data = bytearray(photo_jpeg(64, 48))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_insert(data: bytes, *chunks: bytes, after_image: bool = False) -> bytes:
    """Chunks inserted after IHDR, or after the image data (just before IEND)."""
    at = len(data) - 12 if after_image else 33
    return data[:at] + b"".join(chunks) + data[at:]


@cache
def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A real 1-bit PNG of zeros, small on disk and width*height pixels once decoded."""
    compressor, block = zlib.compressobj(9), bytes(1 << 20)
    raw = height * (1 + (width + 7) // 8)
    stream = b"".join(
        compressor.compress(block[: min(1 << 20, raw - done)]) for done in range(0, raw, 1 << 20)
    )
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", stream + compressor.flush())
        + png_chunk(b"IEND", b"")
    )


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload/readme.txt", "a zip hidden behind a photo")
    return buffer.getvalue()


def _png_truncated() -> bytes:
    return truncated_file(png_bytes(200, 150), 0.5)


def noise_image(width: int = 200, height: int = 150) -> Image.Image:
    """Colour noise: compresses badly, so a file of it has its image data past 1 KiB."""
    return Image.merge("RGB", [Image.effect_noise((width, height), 60) for _ in "RGB"])


def _jpeg_comment_script() -> bytes:  # the COM sits past the first 1024 bytes
    comment = jpeg_segment(0xFE, b"<script>fetch('/api/me')</script>")
    maker_note = {ExifTags.Base.MakerNote: bytes(2048)}
    return jpeg_insert(photo_jpeg(320, 240, exif_extra=maker_note), comment, before_scan=True)


def _png_text_script() -> bytes:  # the text chunk sits past the image data
    text = png_chunk(b"tEXt", b"Comment\x00<SCRIPT src=//evil.example/x.js></SCRIPT>")
    return png_insert(png_bytes(image=noise_image()), text, after_image=True)


def _png_huge_text() -> bytes:
    chunks = [png_chunk(b"tEXt", b"Comment\x00" + b"x" * 200_000) for _ in range(6)]
    return png_insert(png_bytes(64, 48), *chunks)


def _png_huge_exif() -> bytes:
    return png_insert(png_bytes(64, 48), png_chunk(b"eXIf", b"MM\x00*" + bytes(70_000)))


def _png_bad_crc() -> bytes:
    data = bytearray(png_bytes(64, 48))
    data[29] ^= 0xFF  # IHDR's CRC
    return bytes(data)


def _jpeg_bad_huffman() -> bytes:
    data = photo_jpeg(64, 48)
    at = data.index(b"\xff\xc4")
    return data[: at + 4] + bytes(20) + data[at + 24 :]


# name → () → (bytes, HTTP status, extra["reason"]): every way a file is refused.
BAD_FILES: dict[str, Callable[[], tuple[bytes, int, str]]] = {
    "zero_bytes": lambda: (b"", 422, "empty"),
    "30_mb": lambda: (b"\xff\xd8\xff\xe0" + bytes(30_000_000 - 4), 413, "too_large"),
    "svg_with_script": lambda: (SVG_WITH_SCRIPT, 415, "unsupported_type"),
    "html_as_jpg": lambda: (HTML_PAGE, 415, "unsupported_type"),
    "xml": lambda: (XML_DOCUMENT, 415, "unsupported_type"),
    "plain_text": lambda: (PLAIN_TEXT, 415, "unsupported_type"),
    "gif": lambda: (gif_bytes(), 415, "unsupported_type"),
    "tiff": lambda: (TIFF_LIKE, 415, "unsupported_type"),
    "bmp": lambda: (BMP_LIKE, 415, "unsupported_type"),
    "pdf": lambda: (PDF_LIKE + photo_jpeg(64, 48), 415, "unsupported_type"),
    "zip": lambda: (zip_bytes(), 415, "unsupported_type"),
    "avif": lambda: (AVIF_LIKE, 415, "unsupported_type"),
    "png_bomb": lambda: (png_bomb(), 422, "decompression_bomb"),
    "jpeg_bomb": lambda: (jpeg_declaring(12_000, 8_000), 422, "decompression_bomb"),
    "truncated_jpeg": lambda: (truncated_file(photo_jpeg(800, 600)), 422, "truncated"),
    "truncated_png": lambda: (_png_truncated(), 422, "truncated"),
    "corrupt_jpeg": lambda: (_jpeg_bad_huffman(), 422, "corrupt"),
    "corrupt_png": lambda: (_png_bad_crc(), 422, "corrupt"),
    "jpeg_huge_exif": lambda: (jpeg_padded(), 422, "metadata_too_large"),
    "png_huge_text": lambda: (_png_huge_text(), 422, "metadata_too_large"),
    "png_huge_exif": lambda: (_png_huge_exif(), 422, "metadata_too_large"),
    "jpeg_plus_zip": lambda: (photo_jpeg(320, 240) + zip_bytes(), 422, "polyglot"),
    "jpeg_comment_script": lambda: (_jpeg_comment_script(), 422, "polyglot"),
    "png_text_script": lambda: (_png_text_script(), 422, "polyglot"),
    "pdf_header_in_jpeg": lambda: (
        jpeg_insert(photo_jpeg(64, 48), jpeg_segment(0xFE, b"%PDF-1.4 1 0 obj")),
        422,
        "polyglot",
    ),
    "html_in_exif": lambda: (
        photo_jpeg(64, 48, exif_extra={0x010E: "<html><body>hi</body></html>"}),
        422,
        "polyglot",
    ),
}


def webp_declaring(width: int, height: int) -> bytes:
    """A small WebP whose extended header (VP8X) claims a canvas of another size."""
    data = bytearray(webp_bytes(64, 48, exif=exif_block()))
    at = data.index(b"VP8X") + 8
    data[at + 4 : at + 10] = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return bytes(data)


# --- Refusals, for tests/media/test_pipeline.py and test_inspect.py -------------------------------


def refusal(data: bytes, **options: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        process_photo(data, **options)  # type: ignore[arg-type]
    return caught.value
