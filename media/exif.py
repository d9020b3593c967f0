"""What a photo's EXIF says about where and when it was taken, and which way up it is.

The original's capture time and GPS fill in a photo's row when the tablet sent none; the
orientation says how to turn the pixels. Cameras write all sorts of things here (wrong clocks,
a GPS fix of 0,0 that never came, out-of-range minutes, pointers to nowhere), so anything odd
reads as absent: a bad EXIF block never refuses a photo.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from PIL import Image

_DATETIME = re.compile(r"\s*(\d{4})[:-](\d\d)[:-](\d\d)[ T](\d\d):(\d\d):(\d\d)")
_OFFSET = re.compile(r"\s*([+-])(\d\d):(\d\d)\s*$")
ORIENTATION_TAG, _EXIF_IFD, _GPS_IFD = 0x0112, 0x8769, 0x8825
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


@dataclass(frozen=True)
class Metadata:
    orientation: int  # EXIF 1..8; 1 when absent or garbage
    taken_at: datetime | None
    lat: float | None
    lng: float | None


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value.strip("\x00 ") if isinstance(value, str) else ""


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(ORIENTATION_TAG, 1))
    except Exception:
        return 1
    return value if 1 <= value <= 8 else 1


def _taken_at(exif: Image.Exif, zone: tzinfo) -> datetime | None:
    """DateTimeOriginal in its OffsetTimeOriginal, or read in `zone` when it has none."""
    try:
        ifd = exif.get_ifd(_EXIF_IFD)
        match = _DATETIME.match(_text(ifd.get(_DATETIME_ORIGINAL)))
        if not match:
            return None
        naive = datetime(*(int(part) for part in match.groups()))  # type: ignore[misc]
        offset = _OFFSET.match(_text(ifd.get(_OFFSET_TIME_ORIGINAL)))
    except Exception:
        return None
    if offset and int(offset[2]) <= 14 and int(offset[3]) < 60:
        delta = timedelta(hours=int(offset[2]), minutes=int(offset[3]))
        return naive.replace(tzinfo=timezone(-delta if offset[1] == "-" else delta))
    return naive.replace(tzinfo=zone)


def _coordinate(value: object, ref: object, signs: str, limit: float) -> float | None:
    """Degrees from an EXIF (degrees, minutes, seconds) triple and its N/S or E/W reference."""
    hemisphere = _text(ref).upper()
    if hemisphere not in signs or len(hemisphere) != 1:
        return None
    try:
        parts = [float(part) for part in value]  # type: ignore[attr-defined]
    except Exception:
        return None
    if not 1 <= len(parts) <= 3 or not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    degrees, minutes, seconds = (*parts, 0.0, 0.0)[:3]
    if minutes > 60 or seconds > 60:  # 60 itself: a writer's rounding
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if result > limit:
        return None
    return round(-result if hemisphere == signs[1] else result, 7)


def _position(exif: Image.Exif) -> tuple[float | None, float | None]:
    try:
        gps = exif.get_ifd(_GPS_IFD)
        lat = _coordinate(gps.get(2), gps.get(1), "NS", 90)
        lng = _coordinate(gps.get(4), gps.get(3), "EW", 180)
    except Exception:
        return None, None
    if lat is None or lng is None or (lat == 0 and lng == 0):  # 0,0: a fix that never came
        return None, None
    return lat, lng


def read_metadata(exif: Image.Exif, zone: tzinfo) -> Metadata:
    """Orientation, capture time and position; garbage in any of them reads as absent."""
    return Metadata(_orientation(exif), _taken_at(exif, zone), *_position(exif))
