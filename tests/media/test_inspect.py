"""media/inspect.py: what a photo's bytes are and whether they are safe to decode, decided
before a pixel is decoded. Sniffing by magic bytes, with the accepted formats listed and what
refused bytes look like named; decompression bombs refused from the size the header declares
(PNG IHDR, WebP VP8X, JPEG SOF), and the pixel limit's boundary; the metadata limits (what phones
write passes, padding does not; compressed PNG text is measured and searched uncompressed); and
the ZIP polyglot check, which needs a readable end record, not a signature found by chance.

Why apart from test_pipeline.py: these are rules about bytes, cheap and independent of Pillow's
decoders. Several go through `process_photo`, since that is where the checks run: it shows that
the header refuses what Pillow alone would decode (an 85 MP PNG is under Pillow's own limit) and
that real photos still pass. The BAD_FILES corpus, refused end to end, is in test_pipeline.py.
"""

from __future__ import annotations

import zlib

import pytest
from PIL import ExifTags

from api.errors import InputInvalidError, UnsupportedMediaTypeError
from media import inspect
from media.inspect import MAX_PIXELS, sniff
from media.pipeline import process_photo
from tests import factories
from tests.factories import photo_jpeg, refusal

# --- Sniffing -------------------------------------------------------------------------------------


def test_unsupported_details_list_what_is_accepted() -> None:
    for head in (factories.SVG_WITH_SCRIPT, factories.gif_bytes(), b"\x00\x01\x02\x03" * 8):
        with pytest.raises(UnsupportedMediaTypeError) as caught:
            sniff(head)
        assert "JPEG, PNG, WebP and HEIC" in caught.value.detail
    assert caught.value.extra == {"reason": "unsupported_type", "looks_like": "unknown"}


@pytest.mark.parametrize(
    ("head", "looks_like"),
    [
        (b"\xef\xbb\xbf  <!-- drawn by hand -->\n<SVG viewBox='0 0 1 1'/>", "svg"),
        ("<html><body>caf\u00e9</body></html>".encode("utf-16"), "html"),
        (b"<?php echo 1; ?>", "php"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "avif"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "video"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "riff"),
    ],
)
def test_sniff_names_what_refused_bytes_look_like(head: bytes, looks_like: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        sniff(head)
    assert caught.value.extra["looks_like"] == looks_like


def test_sniff_knows_the_accepted_formats_by_magic_bytes() -> None:
    assert sniff(photo_jpeg(16, 16)) == "jpeg"
    assert sniff(factories.png_bytes(16, 16)) == "png"
    assert sniff(factories.webp_bytes(16, 16)) == "webp"
    assert sniff(factories.heic_bytes(64, 64)) == "heic"
    assert sniff(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic") == "heic"
    with pytest.raises(InputInvalidError) as caught:
        sniff(b"")
    assert caught.value.extra == {"reason": "empty"}


# --- Bombs, metadata and polyglots, from the header -----------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lambda: factories.png_bomb(10_000, 8_500), id="png-85MP-under-pillow-limit"),
        pytest.param(lambda: factories.webp_declaring(16_000, 16_000), id="webp-canvas"),
        pytest.param(lambda: factories.jpeg_declaring(65_000, 65_000), id="jpeg-max-sof"),
    ],
)
def test_decompression_bombs_are_refused_from_the_header(data: object) -> None:
    error = refusal(data())  # type: ignore[operator]
    assert isinstance(error, InputInvalidError)
    assert error.extra["reason"] == "decompression_bomb" and "megapixels" in error.detail
    assert error.extra["width"] * error.extra["height"] > MAX_PIXELS


def test_pixel_limit_boundary() -> None:
    inspect.check_pixels(10_000, 8_000)  # exactly MAX_PIXELS is allowed
    with pytest.raises(InputInvalidError):
        inspect.check_pixels(10_000, 8_001)


def test_phone_metadata_passes_and_only_padding_is_refused() -> None:
    phone = photo_jpeg(
        800,
        600,
        gps=(35.78, -78.64),
        taken_at="2024:05:01 14:30:00",
        exif_extra={ExifTags.Base.MakerNote: bytes(60_000)},  # like an embedded thumbnail
        icc=factories.rgb_icc_profile(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + b" " * 20_000 + b"</x:xmpmeta>",
    )
    assert len(phone) > 60_000 and process_photo(phone).lat == pytest.approx(35.78)
    assert process_photo(factories.jpeg_padded(count=15)).format == "jpeg"  # 0.98 MB of APP1
    assert refusal(factories.jpeg_padded(count=17)).extra["reason"] == "metadata_too_large"


def test_compressed_png_text_is_measured_and_read_uncompressed() -> None:
    bomb = factories.png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(bytes(3_000_000)))
    error = refusal(factories.png_insert(factories.png_bytes(64, 48), bomb))
    assert error.extra["reason"] == "metadata_too_large"

    script = zlib.compress(b"x" * 5000 + b"<ScRiPt>alert(1)</script>")
    for chunk in (
        factories.png_chunk(b"zTXt", b"Comment\x00\x00" + script),
        factories.png_chunk(b"iTXt", b"Comment\x00\x01\x00en\x00\x00" + script),
    ):
        data = factories.png_insert(factories.png_bytes(image=factories.noise_image()), chunk)
        assert b"<script" not in data.lower()  # only decompressing finds it
        assert refusal(data).extra["reason"] == "polyglot"


def test_zip_signature_without_a_directory_is_not_a_polyglot() -> None:
    """Compressed pixels can hold `PK\\x05\\x06` by chance; only a readable end record counts."""
    record = b"PK\x05\x06" + bytes(4) + b"\x01\x00\x01\x00" + (0x80000000).to_bytes(4, "little")
    record += (0x80000000).to_bytes(4, "little") + bytes(2)
    assert process_photo(photo_jpeg(320, 240) + record).format == "jpeg"
    assert refusal(photo_jpeg(320, 240) + factories.zip_bytes()).extra["reason"] == "polyglot"
