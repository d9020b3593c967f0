"""Range and conditional-request arithmetic (media/ranges.py), case by case against RFC 9110."""

from __future__ import annotations

import hashlib

import pytest

from api.errors import RangeNotSatisfiableError
from media.ranges import (
    ByteRange,
    etag_for,
    etag_matches,
    parse_range,
    range_applies,
    unsatisfied_content_range,
)

SIZE = 1000
HUGE = "9" * 5000  # past int()'s 4,300-digit limit


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        # the three forms (§14.1.1)
        ("bytes=0-99", SIZE, (0, 100)),
        ("bytes=100-", SIZE, (100, SIZE)),
        ("bytes=-100", SIZE, (900, SIZE)),
        # single bytes
        ("bytes=0-0", SIZE, (0, 1)),
        ("bytes=999-999", SIZE, (999, SIZE)),
        ("bytes=-1", SIZE, (999, SIZE)),
        ("bytes=999-", SIZE, (999, SIZE)),
        ("bytes=0-", SIZE, (0, SIZE)),
        # last-pos past the end is clipped to the last byte
        ("bytes=0-1000", SIZE, (0, SIZE)),
        ("bytes=500-99999999", SIZE, (500, SIZE)),
        (f"bytes=0-{HUGE}", SIZE, (0, SIZE)),
        # a suffix longer than the file is the whole file
        ("bytes=-1000", SIZE, (0, SIZE)),
        ("bytes=-5000", SIZE, (0, SIZE)),
        (f"bytes=-{HUGE}", SIZE, (0, SIZE)),
        ("bytes=-1", 1, (0, 1)),
        ("bytes=0-0", 1, (0, 1)),
        # leading zeros are still numbers, however many
        ("bytes=007-010", SIZE, (7, 11)),
        ("bytes=" + "0" * 5000 + "5-9", SIZE, (5, 10)),
        # case-insensitive unit, optional whitespace around the parts, empty list elements
        ("Bytes=0-9", SIZE, (0, 10)),
        ("BYTES=0-9", SIZE, (0, 10)),
        ("  bytes = 0-9  ", SIZE, (0, 10)),
        ("bytes=\t0-9", SIZE, (0, 10)),
        ("bytes=0-9,", SIZE, (0, 10)),
        ("bytes=, 0-9 ,", SIZE, (0, 10)),
    ],
)
def test_parse_range_gives_the_bytes_asked_for(
    header: str, size: int, expected: tuple[int, int]
) -> None:
    assert parse_range(header, size) == ByteRange(*expected)


@pytest.mark.parametrize(
    ("header", "size"),
    [
        (None, SIZE),
        ("", SIZE),
        ("bytes", SIZE),
        ("bytes=", SIZE),
        ("bytes=-", SIZE),
        ("bytes=,", SIZE),
        ("items=0-1", SIZE),
        ("bytesx=0-1", SIZE),
        ("0-1", SIZE),
        ("bytes=5-2", SIZE),  # last before first: invalid, so ignored
        ("bytes=2000-1000", SIZE),  # invalid even though both are past the end
        ("bytes=0-1,3-4", SIZE),  # several ranges: the whole file is allowed
        ("bytes=0-1, 5000-6000", SIZE),
        ("bytes=0 - 9", SIZE),
        ("bytes=0-9 junk", SIZE),
        ("bytes=a-b", SIZE),
        ("bytes=-5-10", SIZE),
        ("bytes=--5", SIZE),
        ("bytes=5--1", SIZE),
        ("bytes=+5-10", SIZE),
        ("bytes=0x10-", SIZE),
        ("bytes=1.5-2", SIZE),
        ("bytes=\u0661-\u0662", SIZE),  # Arabic-Indic digits are not DIGITs
        ("bytes=\u00b2-", SIZE),  # nor is superscript two
        ("bytes=0-1=2", SIZE),
        ("bytes=-5", 0),  # satisfiable on an empty file, but no 206 can say so: serve it whole
        ("bytes=-1", 0),
        (f"bytes={HUGE}-1", SIZE),  # invalid (last < first) before it is unsatisfiable
    ],
)
def test_parse_range_serves_the_whole_file(header: str | None, size: int) -> None:
    assert parse_range(header, size) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=1000-", SIZE),  # first-pos at the size
        ("bytes=1000-1000", SIZE),
        ("bytes=5000-6000", SIZE),
        (f"bytes={HUGE}-", SIZE),
        ("bytes=-0", SIZE),  # a suffix of no bytes
        ("bytes=-000", SIZE),
        ("bytes=0-", 0),  # an empty file has no first byte
        ("bytes=0-0", 0),
        ("bytes=-0", 0),
        ("bytes=1-", 1),
    ],
)
def test_parse_range_refuses_a_range_outside_the_file(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError) as raised:
        parse_range(header, size)
    assert raised.value.status_code == 416
    assert raised.value.extra == {"size": size}
    assert HUGE not in raised.value.detail


def test_byte_range_lengths_and_content_ranges() -> None:
    assert ByteRange(0, 100).length == 100
    assert ByteRange(0, 100).content_range(1000) == "bytes 0-99/1000"
    assert ByteRange(999, 1000).content_range(1000) == "bytes 999-999/1000"
    assert ByteRange(0, 1).length == 1
    assert unsatisfied_content_range(1000) == "bytes */1000"


@pytest.mark.parametrize(("start", "end"), [(0, 0), (5, 4), (-1, 3)])
def test_byte_range_is_never_empty_or_negative(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        ByteRange(start, end)


HASH = hashlib.sha256(b"photo").hexdigest()
OTHER = hashlib.sha256(b"another photo").hexdigest()
ETAG = f'"{HASH}"'


def test_etag_for_is_the_quoted_hash() -> None:
    assert etag_for(HASH) == ETAG


@pytest.mark.parametrize("value", [HASH.upper(), HASH[:63], f'{HASH[:63]}"', "", "x" * 64])
def test_etag_for_refuses_anything_but_a_sha256(value: str) -> None:
    with pytest.raises(ValueError):
        etag_for(value)


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ("   ", False),
        (ETAG, True),
        (f"  {ETAG}  ", True),
        (f"W/{ETAG}", True),  # weak comparison ignores W/
        (f'"{OTHER}"', False),
        (f'"{OTHER}", {ETAG}', True),
        (f'"{OTHER}",W/{ETAG}', True),
        (f'"{OTHER}", W/"{OTHER}"', False),
        ("*", True),
        (" * ", True),
        (HASH, False),  # unquoted: not an entity tag
        (f'"{HASH.upper()}"', False),  # opaque tags compare case-sensitively
        (f'"{HASH}x"', False),
        (f'"a,b", {ETAG}', True),  # a comma inside a tag does not split the list
        (f"garbage, {ETAG}", True),  # an unparsable element is skipped
        (f"w/{ETAG}", True),  # a lowercase w/ is no prefix, but the quoted tag is ours
    ],
)
def test_etag_matches_for_if_none_match(header: str | None, matches: bool) -> None:
    assert etag_matches(header, ETAG) is matches


def test_etag_matches_a_weak_tag_of_our_own() -> None:
    assert etag_matches(ETAG, f"W/{ETAG}")


@pytest.mark.parametrize(
    ("header", "applies"),
    [
        (None, True),
        (ETAG, True),
        (f" {ETAG} ", True),
        (f"W/{ETAG}", False),  # weak tags never pass the strong comparison
        (f'"{OTHER}"', False),
        (HASH, False),  # unquoted
        ("Wed, 21 Oct 2015 07:28:00 GMT", False),  # a date: we send no Last-Modified
        ("", False),
        ("*", False),
        (f"{ETAG}, {ETAG}", False),  # If-Range takes one tag, not a list
    ],
)
def test_range_applies_for_if_range(header: str | None, applies: bool) -> None:
    assert range_applies(header, ETAG) is applies


def test_range_never_applies_to_a_weak_etag_of_our_own() -> None:
    assert not range_applies(f"W/{ETAG}", f"W/{ETAG}")
