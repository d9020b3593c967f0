"""media/pipeline.py: `process_photo`, from an upload's bytes to two metadata-free JPEG
derivatives, on a corpus built in memory by tests/factories/images.py. Every file of BAD_FILES
refused end to end with its error class, reason and a sentence naming the problem; the size limit
applied before anything reads the bytes; truncation found by decoding; derivatives that keep no
byte of the original's metadata; orientation, sizes and the draft arithmetic; colour (alpha,
CMYK, 16-bit, ICC profiles) and every accepted format; the camera's time and place; and no
exception but a domain error, whatever the bytes.

The checks on bytes that run before anything is decoded (sniffing, polyglots, pixel and metadata
limits, header walks) belong to media/inspect.py and are tested in test_inspect.py; the BAD_FILES
corpus stays here because it checks the whole refusal path through `process_photo`.

Derivatives are checked by reading them back independently: JPEG markers walked here, pixels
sampled where a coloured corner must land. The draft arithmetic is checked against the rule in
Pillow's JpegImagePlugin.draft.
"""

from __future__ import annotations

import hashlib
import io
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps

from api.errors import (
    DomainError,
    InputInvalidError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from media import pipeline
from media.pipeline import (
    DISPLAY_MAX,
    THUMB_MAX,
    ProcessedPhoto,
    Rendition,
    draft_box,
    draft_scale,
    process_photo,
)
from tests import factories
from tests.factories import CORNERS, exif_block, photo_jpeg, refusal

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
