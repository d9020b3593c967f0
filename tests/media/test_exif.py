"""media/exif.py: where and when a photo was taken, read from the original's EXIF through
`process_photo` (so the derivatives' lack of metadata cannot hide a reading), with the
hemispheres, the camera's own offset or else the town's zone, and garbage read as absent."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import ExifTags, TiffImagePlugin

from media.pipeline import process_photo
from tests import factories
from tests.factories import photo_jpeg


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
