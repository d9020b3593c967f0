"""The photo pipeline (media/pipeline.py, media/inspect.py) on a corpus built in memory by
tests/factories.py: every bad file refused with its error class, reason and a sentence naming
the problem; derivatives that keep no byte of the original's metadata; orientation, sizes,
colour (alpha, CMYK, 16-bit, ICC profiles), every accepted format; the camera's time and place;
and no exception but a domain error, whatever the bytes.

Derivatives are checked by reading them back independently: JPEG markers walked here, pixels
sampled where a coloured corner must land. The draft arithmetic is checked against the rule in
Pillow's JpegImagePlugin.draft.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps, TiffImagePlugin

from api.errors import (
    DomainError,
    InputInvalidError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from media import inspect, pipeline
from media.pipeline import (
    DISPLAY_MAX,
    MAX_PIXELS,
    THUMB_MAX,
    ProcessedPhoto,
    Rendition,
    draft_box,
    draft_scale,
    process_photo,
    sniff,
)
from tests import factories
from tests.factories import CORNERS, exif_block, photo_jpeg

ERROR_CLASS = {413: PayloadTooLargeError, 415: UnsupportedMediaTypeError, 422: InputInvalidError}

# A word the detail must contain for each bad file: the sentence names the problem.
DETAIL_NAMES = {
    "zero_bytes": "empty",
    "30_mb": "25 MB",
    "svg_with_script": "SVG is not accepted: it can carry scripts",
    "html_as_jpg": "HTML",
    "xml": "XML",
    "plain_text": "plain text",
    "gif": "GIF",
    "tiff": "TIFF",
    "bmp": "BMP",
    "pdf": "PDF",
    "zip": "ZIP",
    "avif": "AVIF",
    "png_bomb": "30,000x30,000",
    "jpeg_bomb": "12,000x8,000",
    "truncated_jpeg": "truncated",
    "truncated_png": "truncated",
    "corrupt_jpeg": "damaged",
    "corrupt_png": "damaged",
    "jpeg_huge_exif": "APPn and COM",
    "png_huge_text": "text chunks",
    "png_huge_exif": "EXIF",
    "jpeg_plus_zip": "ZIP",
    "jpeg_comment_script": "comment (COM) contains '<script'",
    "png_text_script": "text chunk contains '<script'",
    "pdf_header_in_jpeg": "PDF",
    "html_in_exif": "'<html'",
}


def refusal(data: bytes, **options: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        process_photo(data, **options)  # type: ignore[arg-type]
    return caught.value


def segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment from SOI up to and including SOS."""
    assert jpeg[:2] == b"\xff\xd8"
    found, pos = [], 2
    while True:
        marker = jpeg[pos + 1]
        end = pos + 2 + int.from_bytes(jpeg[pos + 2 : pos + 4], "big")
        found.append((marker, jpeg[pos + 4 : end]))
        if marker == 0xDA:
            return found
        pos = end


def colour(rendition: Rendition, fx: float, fy: float) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(rendition.data)) as image:
        return image.convert("RGB").getpixel((int(fx * image.width), int(fy * image.height)))


def colour_at_centre(rendition: Rendition) -> tuple[int, int, int]:
    return colour(rendition, 0.5, 0.5)


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def assert_bare_jpeg(rendition: Rendition) -> None:
    """Only JFIF APP0 and the segments a baseline JPEG needs; nothing Pillow would read back."""
    found = segments(rendition.data)
    assert {marker for marker, _ in found} <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDD, 0xDA}
    assert [payload[:5] for marker, payload in found if marker == 0xE0] == [b"JFIF\x00"]
    with Image.open(io.BytesIO(rendition.data)) as image:
        assert image.format == "JPEG" and (image.width, image.height) == (
            rendition.width,
            rendition.height,
        )
        assert len(image.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp", "comment", "dpi"} & set(image.info)


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(factories.BAD_FILES))
def test_bad_files_are_refused_with_class_reason_and_sentence(name: str) -> None:
    data, status, reason = factories.BAD_FILES[name]()
    error = refusal(data)
    assert type(error) is ERROR_CLASS[status] and error.status_code == status
    assert error.extra["reason"] == reason, error.detail
    assert DETAIL_NAMES[name] in error.detail


def test_a_large_file_is_refused_by_its_length_before_anything_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def must_not_run(_: bytes) -> str:
        raise AssertionError("sniffed a file that was already too large")

    monkeypatch.setattr(pipeline, "sniff", must_not_run)
    data = photo_jpeg(image=factories.noise_image(200, 150))
    error = refusal(data, max_bytes=len(data) - 1)
    assert isinstance(error, PayloadTooLargeError) and error.extra["reason"] == "too_large"
    assert error.extra == {"reason": "too_large", "size": len(data), "limit": len(data) - 1}


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


@pytest.mark.parametrize("keep", [0.05, 0.3, 0.6, 0.97])
@pytest.mark.parametrize("progressive", [False, True])
def test_truncation_is_found_by_decoding_where_verify_sees_nothing(
    keep: float, progressive: bool
) -> None:
    data = factories.truncated_file(
        photo_jpeg(image=factories.noise_image(400, 300), progressive=progressive), keep
    )
    if keep > 0.1:  # the header is whole: verify() passes it, which is why it is not used
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    error = refusal(data)
    assert isinstance(error, InputInvalidError) and error.extra["reason"] == "truncated"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_webp_and_heic() -> None:
    for data in (factories.webp_bytes(200, 150), factories.heic_bytes(200, 150)):
        error = refusal(factories.truncated_file(data, 0.5))
        assert error.extra["reason"] in ("truncated", "corrupt")
        assert isinstance(error, InputInvalidError)


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


# --- Derivatives ---------------------------------------------------------------------------------


def test_derivatives_carry_no_metadata_from_any_format() -> None:
    exif = exif_block(gps=(35.78, -78.64), taken_at="2024:05:01 14:30:00", orientation=1)
    originals = [
        photo_jpeg(800, 600, gps=(35.78, -78.64), comment=b"secret comment"),  # copied as is
        photo_jpeg(
            800,
            600,
            gps=(35.78, -78.64),
            taken_at="2024:05:01 14:30:00",
            icc=factories.rgb_icc_profile(),
            xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret-xmp/></x:xmpmeta>',
            comment=b"secret comment",
        ),
        factories.png_bytes(800, 600, exif=exif, text={"Comment": "secret text"}),
        factories.webp_bytes(800, 600, exif=exif),
        factories.heic_bytes(800, 600, exif=exif),
    ]
    for data in originals:
        photo = process_photo(data)
        assert photo.lat == pytest.approx(35.78)  # it was there to be kept out
        for rendition in (photo.display, photo.thumb):
            assert_bare_jpeg(rendition)
            for secret in (b"Fieldloop Test Camera", b"secret", b"xmpmeta", b"ICC_PROFILE"):
                assert secret not in rendition.data


def test_twelve_megapixels_decode_to_half_size(monkeypatch: pytest.MonkeyPatch) -> None:
    data = photo_jpeg(4032, 3024, quality=80)
    resized_from: list[tuple[int, int]] = []
    resize = Image.Image.resize

    def spy(image: Image.Image, *args: object, **kwargs: object) -> Image.Image:
        resized_from.append(image.size)
        return resize(image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "resize", spy)
    photo = process_photo(data)
    assert resized_from == [(2016, 1512)]  # only the thumbnail, made from the display image
    assert (photo.width, photo.height) == (4032, 3024)
    assert (photo.display.width, photo.display.height) == (2016, 1512)
    assert (photo.thumb.width, photo.thumb.height) == (320, 240)
    assert near(colour(photo.display, 0.05, 0.05), CORNERS["top_left"])
    assert near(colour(photo.thumb, 0.95, 0.95), CORNERS["bottom_right"])


@pytest.mark.parametrize(
    ("size", "display", "thumb"),
    [
        ((800, 600), (800, 600), (320, 240)),  # not upscaled
        ((100, 50), (100, 50), (100, 50)),
        ((8000, 1000), (2000, 250), (320, 40)),  # drafted to 1/4
        ((3000, 2000), (2048, 1365), (320, 213)),  # 1/2 would be too small: full, then shrunk
        ((1000, 3000), (683, 2048), (107, 320)),
    ],
)
def test_sizes_fit_and_keep_the_aspect_ratio(
    size: tuple[int, int], display: tuple[int, int], thumb: tuple[int, int]
) -> None:
    photo = process_photo(photo_jpeg(*size, quality=70))
    assert (photo.width, photo.height) == size
    assert (photo.display.width, photo.display.height) == display
    assert (photo.thumb.width, photo.thumb.height) == thumb
    assert max(display) <= DISPLAY_MAX and max(thumb) <= THUMB_MAX


def test_large_png_is_shrunk_like_a_jpeg() -> None:
    photo = process_photo(factories.png_bytes(3000, 2000))
    assert (photo.display.width, photo.display.height) == (2048, 1365)


@pytest.mark.parametrize(
    ("width", "height"), [(4032, 3024), (8000, 6000), (9248, 6936), (3000, 2000), (123, 45678)]
)
def test_draft_scale_examples(width: int, height: int) -> None:
    expected = {(4032, 3024): 2, (8000, 6000): 4, (9248, 6936): 4, (3000, 2000): 1}
    scale = draft_scale(width, height)
    assert scale == expected.get((width, height), 8)


def test_draft_box_makes_pillow_pick_exactly_the_scale() -> None:
    """Pillow's JpegImagePlugin.draft: scale = min(w // bw, h // bh), then the largest of 8, 4,
    2, 1 not above it; the decoded size is ceil(w / s) x ceil(h / s)."""
    rng = random.Random(7)
    sizes = [(rng.randint(1, 20_000), rng.randint(1, 20_000)) for _ in range(3000)]
    for width, height in [*sizes, (4032, 3024), (4096, 3072), (2049, 2049), (1, 1)]:
        scale = draft_scale(width, height)
        box_width, box_height = draft_box(width, height, scale)
        wanted = min(width // box_width, height // box_height)
        picked = max(s for s in (8, 4, 2, 1) if s <= wanted)
        if min(width, height) >= scale:
            assert picked == scale, (width, height)
        else:  # a side shorter than the scale: less reduction, shrunk after decoding
            assert picked <= scale
        longest = -(-max(width, height) // scale)
        assert longest <= DISPLAY_MAX or scale == 8 or longest // 2 < pipeline.DRAFT_MIN


# Where the stored image's top-left corner must appear once the orientation is applied.
ORIENTED = {1: (0.1, 0.1), 3: (0.9, 0.9), 6: (0.9, 0.1), 8: (0.1, 0.9)}


@pytest.mark.parametrize("orientation", sorted(ORIENTED))
def test_orientation_is_applied(orientation: int) -> None:
    photo = process_photo(photo_jpeg(800, 600, orientation=orientation))
    upright = (600, 800) if orientation in (6, 8) else (800, 600)
    assert (photo.width, photo.height) == upright
    assert (photo.display.width, photo.display.height) == upright
    assert (photo.thumb.width, photo.thumb.height) == tuple(v * 2 // 5 for v in upright)
    for rendition in (photo.display, photo.thumb):
        assert near(colour(rendition, *ORIENTED[orientation]), CORNERS["top_left"])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillows_exif_transpose(orientation: int) -> None:
    data = photo_jpeg(320, 200, orientation=orientation)
    with Image.open(io.BytesIO(data)) as original:
        expected = ImageOps.exif_transpose(original)
    photo = process_photo(data)
    assert (photo.width, photo.height) == expected.size
    for fx, fy in ((0.1, 0.1), (0.9, 0.1), (0.1, 0.9), (0.9, 0.9)):
        point = (int(fx * expected.width), int(fy * expected.height))
        assert near(colour(photo.display, fx, fy), expected.getpixel(point))


def test_orientation_garbage_is_ignored() -> None:
    assert process_photo(photo_jpeg(800, 600, orientation=77)).width == 800


# --- Colour and formats ---------------------------------------------------------------------------


def test_png_alpha_is_composited_on_white() -> None:
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((200, 20, 20, 255), (100, 0, 200, 100))
    photo = process_photo(factories.png_bytes(image=image))
    assert (photo.format, photo.content_type) == ("png", "image/png")
    assert near(colour(photo.display, 0.25, 0.5), (255, 255, 255), 8)
    assert near(colour(photo.display, 0.75, 0.5), (200, 20, 20), 20)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (Image.new("LA", (64, 48), (0, 0)), (255, 255, 255)),
        (Image.new("RGBA", (64, 48), (10, 200, 10, 255)).quantize(), (10, 200, 10)),
        (Image.new("I;16", (64, 48), 32768), (128, 128, 128)),  # not clipped to white
        (Image.new("1", (64, 48), 1), (255, 255, 255)),
        (Image.new("L", (64, 48), 60), (60, 60, 60)),
    ],
    ids=["LA", "P", "I;16", "1", "L"],
)
def test_png_modes_become_rgb(image: Image.Image, expected: tuple[int, int, int]) -> None:
    photo = process_photo(factories.png_bytes(image=image))
    assert near(colour(photo.display, 0.5, 0.5), expected, 6)


def test_palette_transparency_is_white() -> None:
    image = Image.new("P", (64, 48), 1)
    image.putpalette([0, 0, 0, 250, 10, 10])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=1)
    assert near(colour(process_photo(buffer.getvalue()).display, 0.5, 0.5), (255, 255, 255), 6)


def test_cmyk_and_grayscale_jpegs_become_rgb() -> None:
    cyan = Image.new("CMYK", (64, 48), (255, 0, 0, 0))
    photo = process_photo(photo_jpeg(image=cyan))
    assert near(colour(photo.display, 0.5, 0.5), (0, 255, 255), 60)
    with Image.open(io.BytesIO(photo.display.data)) as display:
        assert display.mode == "RGB"
    grey = process_photo(photo_jpeg(image=Image.new("L", (64, 48), 90)))
    assert near(colour(grey.display, 0.5, 0.5), (90, 90, 90), 4)


def test_an_embedded_profile_is_converted_to_srgb() -> None:
    """Pure red under a profile whose red primary is sRGB's green must come out green: the
    profile was applied, then dropped."""
    red = Image.new("RGB", (64, 48), (255, 0, 0))
    swapped = factories.rgb_icc_profile(factories.SWAPPED_RG_COLORANTS, "swapped red/green")
    photo = process_photo(photo_jpeg(image=red, icc=swapped))
    assert near(colour(photo.display, 0.5, 0.5), (0, 255, 0), 30)
    assert_bare_jpeg(photo.display)

    muted = Image.new("RGB", (64, 48), (200, 60, 60))
    p3 = process_photo(photo_jpeg(image=muted, icc=factories.rgb_icc_profile()))
    red, green, _ = colour_at_centre(p3.display)
    assert red > 210 and green < 50  # Display P3's red is more saturated than sRGB's


def test_srgb_and_broken_profiles_leave_colours_alone() -> None:
    muted = Image.new("RGB", (64, 48), (200, 60, 60))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for icc in (srgb, b"not a profile at all", factories.rgb_icc_profile()[:200]):
        photo = process_photo(photo_jpeg(image=muted, icc=icc))
        assert near(colour_at_centre(photo.display), (200, 60, 60), 4)


def test_webp_lossy_and_lossless() -> None:
    exif = exif_block(orientation=6, gps=(-33.8688, 151.2093))
    for lossless in (False, True):
        photo = process_photo(factories.webp_bytes(640, 480, exif=exif, lossless=lossless))
        assert (photo.format, photo.content_type) == ("webp", "image/webp")
        assert (photo.width, photo.height) == (480, 640)
        assert (photo.lat, photo.lng) == (pytest.approx(-33.8688), pytest.approx(151.2093))
        assert near(colour(photo.display, 0.9, 0.1), CORNERS["top_left"])


def test_heic_is_decoded_and_its_orientation_applied_once() -> None:
    exif = exif_block(orientation=6, gps=(35.78, -78.64), taken_at="2024:05:01 14:30:00")
    photo = process_photo(factories.heic_bytes(640, 480, exif=exif))
    assert (photo.format, photo.content_type) == ("heic", "image/heic")
    assert (photo.width, photo.height) == (480, 640)
    assert (photo.display.width, photo.display.height) == (480, 640)
    assert near(colour(photo.display, 0.9, 0.1), CORNERS["top_left"])
    assert photo.taken_at == datetime(2024, 5, 1, 14, 30, tzinfo=UTC)
    assert (photo.lat, photo.lng) == (pytest.approx(35.78), pytest.approx(-78.64))


def test_multi_picture_jpeg_is_a_jpeg() -> None:
    photo = process_photo(factories.mpo_bytes(640, 480))
    assert (photo.format, photo.width, photo.display.width) == ("jpeg", 640, 640)


# --- Time and place ------------------------------------------------------------------------------


def test_gps_is_read_with_its_hemispheres() -> None:
    for lat, lng in ((35.78, -78.64), (-33.8688, 151.2093), (64.1466, -21.9426)):
        photo = process_photo(photo_jpeg(320, 240, gps=(lat, lng)))
        assert photo.lat == pytest.approx(lat, abs=1e-6)
        assert photo.lng == pytest.approx(lng, abs=1e-6)
    bare = process_photo(photo_jpeg(320, 240))
    assert (bare.lat, bare.lng, bare.taken_at) == (None, None, None)


def _rational(numerator: int, denominator: int) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(numerator, denominator)


@pytest.mark.parametrize(
    "gps",
    [
        {1: "N", 2: (200.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},  # latitude out of range
        {1: "N", 2: (10.0, 0.0, 0.0), 3: "E", 4: (181.0, 0.0, 0.0)},
        {1: "Q", 2: (10.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},  # no such hemisphere
        {2: (10.0, 0.0, 0.0), 4: (10.0, 0.0, 0.0)},  # no references
        {1: "North", 2: (10.0, 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},
        {1: "N", 2: 10.0, 3: "E", 4: (10.0, 0.0, 0.0)},  # one number, not three
        {1: "N", 2: (_rational(1, 0), 0.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},  # x/0
        {1: "N", 2: (10.0, 75.0, 0.0), 3: "E", 4: (10.0, 0.0, 0.0)},  # 75 minutes
        {1: "N", 2: (0.0, 0.0, 0.0), 3: "E", 4: (0.0, 0.0, 0.0)},  # 0,0: no fix
        {1: "S", 2: (10.0,) * 7, 3: "E", 4: (10.0, 0.0, 0.0)},
    ],
)
def test_garbage_gps_is_ignored(gps: dict[int, object]) -> None:
    photo = process_photo(photo_jpeg(320, 240, gps=gps, taken_at="2024:05:01 14:30:00"))
    assert (photo.lat, photo.lng) == (None, None)
    assert photo.taken_at is not None  # the rest of the EXIF still counts


def test_a_gps_pointer_to_nowhere_is_ignored() -> None:
    entry = struct.pack(">HHII", ExifTags.IFD.GPSInfo, 4, 1, 0x7FFF_FFF0)  # LONG offset
    exif = b"Exif\x00\x00MM\x00*" + struct.pack(">IH", 8, 1) + entry + bytes(4)
    buffer = io.BytesIO()
    factories.photo_image(320, 240).save(buffer, "JPEG", exif=exif)
    photo = process_photo(buffer.getvalue())
    assert (photo.lat, photo.lng, photo.width) == (None, None, 320)


NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("taken_at", "offset", "zone", "expected"),
    [
        ("2024:05:01 14:30:00", "+02:00", UTC, datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("2024:05:01 14:30:00", "-05:30", NEW_YORK, datetime(2024, 5, 1, 20, 0, tzinfo=UTC)),
        ("2024:05:01 14:30:00", None, NEW_YORK, datetime(2024, 5, 1, 18, 30, tzinfo=UTC)),
        ("2024:01:15 08:00:00", None, NEW_YORK, datetime(2024, 1, 15, 13, 0, tzinfo=UTC)),
        ("2024:05:01 14:30:00", None, UTC, datetime(2024, 5, 1, 14, 30, tzinfo=UTC)),
        ("2024:05:01 14:30:00", "+99:00", NEW_YORK, datetime(2024, 5, 1, 18, 30, tzinfo=UTC)),
        ("2024:05:01 14:30:00\x00", "garbage", UTC, datetime(2024, 5, 1, 14, 30, tzinfo=UTC)),
    ],
)
def test_taken_at_in_its_offset_or_the_towns_zone(
    taken_at: str, offset: str | None, zone: ZoneInfo, expected: datetime
) -> None:
    photo = process_photo(photo_jpeg(320, 240, taken_at=taken_at, offset=offset), zone=zone)
    assert photo.taken_at == expected
    assert photo.taken_at is not None and photo.taken_at.utcoffset() is not None


def test_taken_at_keeps_the_cameras_offset() -> None:
    photo = process_photo(photo_jpeg(320, 240, taken_at="2024:05:01 14:30:00", offset="+02:00"))
    assert photo.taken_at is not None and photo.taken_at.utcoffset() == timedelta(hours=2)
    assert photo.taken_at.hour == 14


@pytest.mark.parametrize(
    "garbage", ["not a date", "0000:00:00 00:00:00", "2024:13:45 25:61:00", "", "    :  :     "]
)
def test_garbage_taken_at_is_none(garbage: str) -> None:
    assert process_photo(photo_jpeg(320, 240, taken_at=garbage)).taken_at is None


# --- Robustness ----------------------------------------------------------------------------------


def test_nothing_but_domain_errors_escape_whatever_the_bytes() -> None:
    rng = random.Random(20261204)
    seeds = [
        photo_jpeg(64, 48, gps=(1.0, 2.0), taken_at="2024:05:01 14:30:00"),
        photo_jpeg(64, 48, progressive=True),
        factories.png_bytes(64, 48, text={"a": "b"}),
        factories.webp_bytes(64, 48, exif=exif_block(orientation=6)),
        factories.heic_bytes(64, 48),
    ]
    outcomes: set[str] = set()
    for round_ in range(400):
        data = bytearray(seeds[round_ % len(seeds)])
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(len(data))
            action = rng.random()
            if action < 0.6:
                data[at] = rng.randrange(256)
            elif action < 0.8:
                data[at:at] = rng.randbytes(rng.randint(1, 16))
            else:
                del data[at : at + rng.randint(1, 64)]
        try:
            result = process_photo(bytes(data))
        except DomainError as error:
            outcomes.add(error.extra["reason"])
        else:
            assert isinstance(result, ProcessedPhoto)
            outcomes.add("accepted")
    assert {"accepted", "corrupt"} <= outcomes


def test_threads_share_nothing() -> None:
    photos = [photo_jpeg(640, 480, orientation=o, color=(o * 30, 90, 90)) for o in range(1, 9)]
    photos += [factories.png_bytes(300, 200), factories.webp_bytes(300, 200)]
    alone = [process_photo(data) for data in photos]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(process_photo, photos * 3))
    assert together == alone * 3
    assert Image.MAX_IMAGE_PIXELS == 89_478_485 and ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_rendition_hash_and_type() -> None:
    photo = process_photo(photo_jpeg(320, 240))
    assert photo.display.sha256 == hashlib.sha256(photo.display.data).hexdigest()
    assert photo.thumb.content_type == "image/jpeg"
    assert photo.display.sha256 != photo.thumb.sha256
