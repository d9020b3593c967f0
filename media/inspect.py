"""Reading a photo's bytes before anything decodes them: what kind of file it is and whether it
is safe to decode. `media.pipeline` runs these checks, then decodes.

Why apart from the pipeline: these are rules about bytes, cheap and independent of Pillow.
Magic bytes name the format (`sniff`, which also says what a refused file looks like). A walk of
the container's own structure (JPEG segments up to the first scan, PNG chunks, WebP RIFF chunks)
reads the dimensions and measures the metadata from the header alone, so a decompression bomb,
a truncated file or a header padded with megabytes of metadata is refused before a pixel is
decoded. Polyglot checks look where other formats' readers look: browsers sniff markup at the
start, PDF readers accept `%PDF-` anywhere in the first 1024 bytes, ZIP readers find their
end-of-central-directory record in the last 64 KiB; plus markup hidden in JPEG comments and PNG
text. Everything is slices, `bytes.find` and a bounded loop over segment headers.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Final

from api.errors import InputInvalidError, UnsupportedMediaTypeError

MAX_PIXELS: Final = 80_000_000  # width*height; covers 48 and 64 MP phone sensors
MAX_EXIF_BYTES: Final = 64 * 1024
MAX_METADATA_BYTES: Final = 1024 * 1024  # JPEG APPn+COM, PNG text, WebP EXIF+XMP+ICCP
MAX_CHUNKS: Final = 65_536  # segments/chunks walked; real files have tens (PNG IDAT: thousands)
SNIFF_BYTES: Final = 1024
ACCEPTED: Final = "Fieldloop accepts JPEG, PNG, WebP and HEIC photos."


@dataclass(frozen=True)
class Kind:
    """An accepted format: its name in the API, its MIME type and how Pillow knows it."""

    name: str  # "jpeg" | "png" | "webp" | "heic"
    label: str  # for sentences: "JPEG"
    content_type: str
    pillow_format: str  # the only decoder Image.open may try
    pillow_reports: frozenset[str]  # what im.format may say after opening


KINDS: Final = {
    "jpeg": Kind("jpeg", "JPEG", "image/jpeg", "JPEG", frozenset({"JPEG", "MPO"})),
    "png": Kind("png", "PNG", "image/png", "PNG", frozenset({"PNG"})),
    "webp": Kind("webp", "WebP", "image/webp", "WEBP", frozenset({"WEBP"})),
    "heic": Kind("heic", "HEIC", "image/heic", "HEIF", frozenset({"HEIF"})),
}


def invalid(reason: str, detail: str, **extra: Any) -> InputInvalidError:
    return InputInvalidError(detail, reason=reason, **extra)


def truncated(label: str, where: str) -> InputInvalidError:
    return invalid("truncated", f"The {label} file is truncated: {where}. Upload it again.")


def corrupt(label: str, why: str) -> InputInvalidError:
    return invalid("corrupt", f"The {label} file is damaged: {why}.")


def kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB"


# --- 1. What kind of file is it? ---------------------------------------------------------------

_HEIC_BRANDS: Final = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})


def _ftyp_kind(head: bytes) -> str | None:
    """For an ISO base media file (its first box is `ftyp`): heic, avif, heif or video."""
    if head[4:8] != b"ftyp":
        return None
    end = min(max(int.from_bytes(head[:4], "big"), 16), len(head))
    major = head[8:12]
    brands = {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _HEIC_BRANDS:
        return "heic"
    if major in _AVIF_BRANDS:
        return "avif"
    if major in (b"mif1", b"msf1"):
        return "heic" if brands & _HEIC_BRANDS else "avif" if brands & _AVIF_BRANDS else "heif"
    return "video"


_BOMS: Final = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _as_text(head: bytes) -> str | None:
    """The head decoded as text, or None when it is binary (a cut multibyte tail is fine)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="ignore")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:
            return None
        text = head[: error.start].decode("utf-8")
    if any(c < " " and c not in "\t\n\r\f" for c in text):
        return None
    return text


def looks_like(head: bytes) -> tuple[str, str]:
    """What bytes that are not an accepted photo look like: (key, phrase for a sentence)."""
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif", "a GIF image"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff", "a TIFF image (or a camera raw file)"
    if head[:5] == b"%PDF-":
        return "pdf", "a PDF document"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return "zip", "a ZIP archive (or an Office document)"
    if head[:2] == b"BM" and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return "bmp", "a BMP image"
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "jxl", "a JPEG XL image"
    if head[:4] == b"RIFF":
        return "riff", "a RIFF file (audio or video)"
    ftyp = _ftyp_kind(head)
    if ftyp == "avif":
        return "avif", "an AVIF image"
    if ftyp == "heif":
        return "heif", "a HEIF image that is not HEIC"
    if ftyp == "video":
        return "video", "a video (MP4 or QuickTime)"
    text = _as_text(head)
    if text is None:
        return "unknown", "none of the accepted formats"
    lowered = text.lower()
    if "<svg" in lowered:
        return "svg", "an SVG image"
    if "<?php" in lowered:
        return "php", "PHP code"
    if any(tag in lowered for tag in ("<!doctype html", "<html", "<head", "<body", "<script")):
        return "html", "an HTML page"
    if lowered.lstrip().startswith("<"):
        return "xml", "an XML document"
    return "text", "plain text"


def sniff(head: bytes) -> str:
    """The accepted format ("jpeg", "png", "webp", "heic") the magic bytes announce.

    Pass the first bytes of the file (at least 32; `SNIFF_BYTES` names text formats best).
    Anything else raises UnsupportedMediaTypeError naming what it looks like; empty bytes raise
    InputInvalidError with reason "empty"."""
    if not head:
        raise invalid("empty", "The file is empty (0 bytes).")
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if _ftyp_kind(head) == "heic":
        return "heic"
    key, phrase = looks_like(head[:SNIFF_BYTES])
    if key == "svg":
        detail = f"SVG is not accepted: it can carry scripts. {ACCEPTED}"
    elif key == "unknown":
        detail = f"The file's first bytes are not those of a photo format. {ACCEPTED}"
    else:
        detail = f"The file looks like {phrase}, which is not accepted. {ACCEPTED}"
    raise UnsupportedMediaTypeError(detail, reason="unsupported_type", looks_like=key)


# --- 2. Is it also another format? ---------------------------------------------------------------

_MARKUP: Final = (b"<html", b"<script", b"<svg", b"<!doctype", b"<?php", b"<iframe", b"<body")
_ZIP_END: Final = b"PK\x05\x06"
_ZIP_SEARCH: Final = 65_557  # 22-byte end record + 65,535-byte comment: where ZIP readers look


def markup_in(blob: bytes) -> str | None:
    lowered = blob.lower()
    for tag in _MARKUP:
        if tag in lowered:
            return tag.decode()
    return None


def polyglot(label: str, what: str) -> InputInvalidError:
    return invalid(
        "polyglot",
        f"The {label} file is also {what}; files that are two formats at once are refused.",
    )


def _has_zip_end(data: bytes) -> bool:
    """An end-of-central-directory record whose directory fits before it, as a reader needs;
    a random `PK\\x05\\x06` in compressed pixels almost never has one."""
    start = max(0, len(data) - _ZIP_SEARCH)
    at = data.rfind(_ZIP_END, start)
    while at >= 0:
        record = data[at : at + 22]
        if len(record) == 22:
            size = int.from_bytes(record[12:16], "little")
            offset = int.from_bytes(record[16:20], "little")
            if 0xFFFFFFFF in (size, offset) or size + offset <= at:
                return True
        at = data.rfind(_ZIP_END, start, at)
    return False


def check_polyglot(data: bytes, kind: Kind) -> None:
    """Refuse a file that other readers would take for HTML, PDF or ZIP."""
    head = data[:1024]
    tag = markup_in(head)
    if tag:
        raise polyglot(kind.label, f"HTML: its first 1024 bytes contain '{tag}'")
    if b"%PDF-" in head:
        raise polyglot(kind.label, "a PDF: its first 1024 bytes contain '%PDF-'")
    if _has_zip_end(data):
        raise polyglot(kind.label, "a ZIP archive: it ends with a ZIP directory")


# --- 3. The container's structure: dimensions, metadata, truncation ------------------------------

_JPEG_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC


def _metadata_too_large(what: str, size: int, limit: int) -> InputInvalidError:
    return invalid(
        "metadata_too_large",
        f"The photo carries too much metadata ({what}: {kib(size)}; the limit is {kib(limit)}). "
        "Export it again without the extra metadata.",
        limit=limit,
    )


def _walk_jpeg(data: bytes) -> tuple[int, int]:
    """Segment headers from SOI to the first scan (SOS): the frame size, the APPn/COM bytes."""
    n, pos, steps, metadata = len(data), 2, 0, 0
    size: tuple[int, int] | None = None
    while True:
        steps += 1
        if steps > MAX_CHUNKS:
            raise corrupt("JPEG", f"its header has more than {MAX_CHUNKS:,} segments")
        if pos + 4 > n:
            raise truncated("JPEG", "it ends inside its header")
        if data[pos] != 0xFF:
            raise corrupt("JPEG", "its header segments are out of step")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            pos += 2
            continue
        if marker == 0xD9:
            raise corrupt("JPEG", "it ends before any image data")
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > n:
            raise truncated("JPEG", "it ends inside its header")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            metadata += end - pos
            if metadata > MAX_METADATA_BYTES:
                raise _metadata_too_large("APPn and COM segments", metadata, MAX_METADATA_BYTES)
            if marker == 0xFE and (tag := markup_in(data[pos + 4 : end])):
                raise polyglot("JPEG", f"HTML: its comment (COM) contains '{tag}'")
        elif marker in _JPEG_SOF and end - pos >= 9:
            size = (
                int.from_bytes(data[pos + 7 : pos + 9], "big"),
                int.from_bytes(data[pos + 5 : pos + 7], "big"),
            )
        elif marker == 0xDA:
            if size is None or 0 in size:
                raise corrupt("JPEG", "it has no frame size before its image data")
            return size
        pos = end


def _png_text(kind: bytes, body: bytes, budget: int) -> bytes:
    """The text of a tEXt, zTXt or iTXt chunk, decompressing at most `budget` + 1 bytes."""
    keyword, _, rest = body.partition(b"\x00")
    compressed = kind == b"zTXt"
    if kind == b"iTXt":
        compressed = rest[:1] == b"\x01"
        rest = rest[2:].partition(b"\x00")[2].partition(b"\x00")[2]  # skip language, keyword
    elif compressed:
        rest = rest[1:]
    if not compressed:
        return keyword + b" " + rest
    try:
        return keyword + b" " + zlib.decompressobj().decompress(rest, budget + 1)
    except zlib.error:
        return keyword


def _walk_png(data: bytes) -> tuple[int, int]:
    """Chunk headers from IHDR to IEND: the size, the text and EXIF chunks, truncation."""
    n = len(data)
    if n < 33:
        raise truncated("PNG", "it ends inside its header")
    if data[12:16] != b"IHDR" or int.from_bytes(data[8:12], "big") != 13:
        raise corrupt("PNG", "its first chunk is not IHDR")
    size = (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"))
    pos, text, chunks = 8, 0, 0
    while True:
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise corrupt("PNG", f"it has more than {MAX_CHUNKS:,} chunks")
        if pos + 12 > n:
            raise truncated("PNG", "it ends before its IEND chunk")
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body, end = data[pos + 4 : pos + 8], pos + 8, pos + 12 + length
        if end > n:
            raise truncated("PNG", f"it ends inside its {kind.decode('latin-1')} chunk")
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            words = _png_text(kind, data[body : body + length], MAX_METADATA_BYTES - text)
            text += max(length, len(words))
            if text > MAX_METADATA_BYTES:
                raise _metadata_too_large("text chunks", text, MAX_METADATA_BYTES)
            if tag := markup_in(words):
                raise polyglot("PNG", f"HTML: a text chunk contains '{tag}'")
        elif kind == b"eXIf" and length > MAX_EXIF_BYTES:
            raise _metadata_too_large("EXIF block", length, MAX_EXIF_BYTES)
        elif kind == b"IEND":
            return size
        pos = end


def _walk_webp(data: bytes) -> tuple[int, int]:
    """RIFF chunks: the canvas size (VP8X, else VP8L/VP8), EXIF/XMP/ICCP bytes, truncation."""
    n = len(data)
    stop = int.from_bytes(data[4:8], "little") + 8
    if stop > n:
        raise truncated("WebP", "it is shorter than its RIFF header says")
    pos, chunks, metadata = 12, 0, 0
    size: tuple[int, int] | None = None
    while pos + 8 <= stop:
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise corrupt("WebP", f"it has more than {MAX_CHUNKS:,} chunks")
        fourcc, length = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if body + length > stop:
            raise truncated("WebP", "it ends inside a chunk")
        chunk = data[body : body + min(length, 10)]
        if fourcc == b"VP8X" and len(chunk) == 10:
            size = (
                1 + int.from_bytes(chunk[4:7], "little"),
                1 + int.from_bytes(chunk[7:10], "little"),
            )
        elif fourcc == b"VP8L" and size is None and len(chunk) >= 5:
            bits = int.from_bytes(chunk[1:5], "little")
            size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        elif fourcc == b"VP8 " and size is None and len(chunk) == 10:
            size = (
                int.from_bytes(chunk[6:8], "little") & 0x3FFF,
                int.from_bytes(chunk[8:10], "little") & 0x3FFF,
            )
        elif fourcc in (b"EXIF", b"XMP ", b"ICCP"):
            if fourcc == b"EXIF" and length > MAX_EXIF_BYTES:
                raise _metadata_too_large("EXIF block", length, MAX_EXIF_BYTES)
            metadata += length
            if metadata > MAX_METADATA_BYTES:
                raise _metadata_too_large("metadata chunks", metadata, MAX_METADATA_BYTES)
        pos = body + length + (length & 1)
    if size is None or 0 in size:
        raise corrupt("WebP", "it has no image chunk")
    return size


def header_size(kind: Kind, data: bytes) -> tuple[int, int] | None:
    """(width, height) from the container's header, after checking its structure and metadata;
    None for HEIC, whose boxes Pillow (pillow-heif) reads instead."""
    if kind.name == "jpeg":
        return _walk_jpeg(data)
    if kind.name == "png":
        return _walk_png(data)
    if kind.name == "webp":
        return _walk_webp(data)
    return None


def check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise invalid(
            "decompression_bomb",
            f"The image is {width:,}x{height:,} pixels ({width * height / 1e6:,.1f} megapixels); "
            f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels, so it is refused as a possible "
            "decompression bomb.",
            width=width,
            height=height,
            limit=MAX_PIXELS,
        )


def check_info(kind: Kind, info: dict[str, Any]) -> None:
    """The metadata Pillow found (all of it for HEIC, whose container is not walked here)."""
    exif = len(info.get("exif") or b"")
    if exif > MAX_EXIF_BYTES:
        raise _metadata_too_large("EXIF block", exif, MAX_EXIF_BYTES)
    total = exif + sum(len(info.get(key) or b"") for key in ("xmp", "icc_profile"))
    if total > MAX_METADATA_BYTES:
        raise _metadata_too_large("EXIF, XMP and ICC metadata", total, MAX_METADATA_BYTES)
