"""HTTP range and conditional-request arithmetic for serving photos: pure functions, no I/O.

Crew tablets on a weak signal resume photo downloads with `Range`, and every client revalidates
its cache with `If-None-Match`. The rules are RFC 9110's, and each function cites the section
it implements so it can be read against the spec. Photos are content-addressed, so a photo's
entity tag is simply its sha256 and is always strong.

Leniency follows the RFC's own permission: a `Range` header we do not understand, or one asking
for several ranges, is ignored and the whole file is served (§14.2: "A server MAY ignore the
Range header field"). Only a range that is well-formed but outside the file is an error (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from api.errors import RangeNotSatisfiableError

_SHA256 = re.compile(r"[0-9a-f]{64}")
# §14.1.1: int-range = first-pos "-" [ last-pos ], suffix-range = "-" suffix-length; DIGITs
# are ASCII only (str.isdigit would accept superscripts and Arabic-Indic digits).
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes DQUOTE but not comma
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')
# Larger than any file we store, small enough for int(); longer digit strings mean "huge".
_MAX_DIGITS = 18
_HUGE = 10**_MAX_DIGITS


@dataclass(frozen=True)
class ByteRange:
    """Bytes [start, end) of a file: `end` is exclusive, the range is never empty."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(f"not a byte range: [{self.start}, {self.end})")

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        """The Content-Range value of a 206 answer (§14.4): 'bytes 0-99/1000'."""
        return f"bytes {self.start}-{self.end - 1}/{size}"


def unsatisfied_content_range(size: int) -> str:
    """The Content-Range value of a 416 answer (§14.4): 'bytes */1000'."""
    return f"bytes */{size}"


def _position(digits: str) -> int:
    """A DIGIT string as a number; absurdly long ones become `_HUGE` rather than failing
    (int() refuses over 4,300 digits, and no stored file is anywhere near 10**18 bytes)."""
    digits = digits.lstrip("0") or "0"
    return _HUGE if len(digits) > _MAX_DIGITS else int(digits)


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range a `Range` header asks of a file of `size` bytes (RFC 9110 §14.2).

    None means "serve the whole file with 200": no header, a unit other than bytes, a
    malformed or invalid spec (such as 'bytes=5-2'), or several ranges. Whitespace around the
    unit, the '=' and the range is tolerated; inside the range it is not. A suffix range
    ('bytes=-n') longer than the file gives the whole file as a range; a last position past
    the end is clipped to the last byte (§14.1.1).

    Raises RangeNotSatisfiableError (416, extra size=size) for a well-formed range with no
    byte in the file: a first position at or past the end (including any 'bytes=a-' of an
    empty file) or a suffix of length 0. A non-zero suffix of an empty file is satisfiable by
    §14.1.1 ("the only satisfiable form") but cannot be written as a 206 Content-Range, so it
    gives None: the empty file is served whole.
    """
    if header is None:
        return None
    unit, equals, range_set = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":  # range units are case-insensitive
        return None
    # 1. range-set = 1#range-spec: a list, whose empty elements recipients must ignore (§5.6.1)
    specs = [spec.strip() for spec in range_set.split(",") if spec.strip()]
    if len(specs) != 1:
        return None  # no range, or several: ignoring the header is allowed (§14.2)
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    # 2. suffix-range: the last `n` bytes, or all of them if the file is shorter
    if not first:
        if not last:
            return None  # a bare '-'
        length = _position(last)
        if length == 0:
            raise RangeNotSatisfiableError("a range of the last 0 bytes selects nothing", size=size)
        if size == 0:
            return None
        return ByteRange(max(size - length, 0), size)
    # 3. int-range: first-pos to last-pos inclusive, or to the end if last-pos is absent
    start = _position(first)
    if last and _position(last) < start:
        return None  # last-pos < first-pos makes the range-spec invalid (§14.1.1)
    if start >= size:
        raise RangeNotSatisfiableError(
            f"the range starts at byte {start} but the file has {size} bytes", size=size
        )
    end = size if not last else min(_position(last) + 1, size)
    return ByteRange(start, end)


def etag_for(sha256: str) -> str:
    """The strong entity tag of a content-addressed file: its sha256 in quotes (§8.8.3)."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError("an entity tag is made from 64 lowercase hex characters (a sha256)")
    return f'"{sha256}"'


def _opaque(tag: str) -> str:
    """The quoted part of an entity tag, without any W/ prefix."""
    return tag.strip().removeprefix("W/")


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` header matches `etag`, so the answer is 304 (§13.1.2).

    If-None-Match uses the weak comparison (§8.8.3.2): tags match when their quoted parts
    are equal, whether either is W/ or not. '*' matches any file that exists (the caller only
    asks about files that do). Missing, empty or tag-less headers match nothing; unparsable
    list elements are skipped.
    """
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = _opaque(etag)
    return any(f'"{match.group(2)}"' == ours for match in _ENTITY_TAG.finditer(if_none_match))


def range_applies(if_range: str | None, etag: str) -> bool:
    """Whether to honour `Range` given the request's `If-Range` header (§13.1.5).

    No header: yes. An entity tag: only if it is strong and equal to our (strong) `etag`
    character for character (the strong comparison, §8.8.3.2). A weak tag, a date (we send
    no Last-Modified to compare it with), or anything else: no, serve the whole file.
    """
    if if_range is None:
        return True
    return not etag.startswith("W/") and if_range.strip() == etag
