"""The tus wire format: headers read and written exactly as the protocol spells them."""

from __future__ import annotations

import base64
import hashlib

import pytest

from api.errors import (
    ChecksumMismatchError,
    InputInvalidError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ProtocolError,
    UnsupportedMediaTypeError,
)
from media import tus
from media.schemas import PhotoKind

SHA = "ab" * 32


def test_metadata_round_trip_keeps_unicode_and_commas_in_values() -> None:
    pairs = {"work_order": "WO-2026-000001", "filename": "Café, rue 5.jpg", "kind": "after"}
    assert tus.parse_metadata_header(tus.encode_metadata(pairs)) == pairs


def test_metadata_key_without_value_is_an_empty_string() -> None:
    header = f"is_confidential,kind {base64.b64encode(b'before').decode()}"
    assert tus.parse_metadata_header(header) == {"is_confidential": "", "kind": "before"}


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("kind bm90IGJhc2U2NA=!", "not base64"),
        ("kind YWZ0ZXI=,kind YWZ0ZXI=", "twice"),
        ("bad key YWZ0ZXI=", "not base64"),
        ("ké YWZ0ZXI=", "malformed key"),
        (",", "malformed key"),
        ("kind " + base64.b64encode(b"\xff\xfe").decode(), "UTF-8"),
        ("a " + "A" * 5000, "over 4096"),
    ],
)
def test_malformed_metadata_is_a_400_naming_the_header(header: str, words: str) -> None:
    with pytest.raises(ProtocolError, match=words) as caught:
        tus.parse_metadata_header(header)
    assert caught.value.status_code == 400
    assert caught.value.field.startswith("Upload-Metadata")


def test_read_metadata_ignores_what_tus_clients_add_and_checks_what_it_knows() -> None:
    meta = tus.read_metadata(
        {
            "work_order": "WO-2026-000001",
            "sha256": SHA,
            "kind": "after",
            "lat": "35.79",
            "lng": "-78.78",
            "taken_at": "2026-12-01T10:00:00-05:00",
            "filename": "IMG_0001.JPG",
            "filetype": "image/jpeg",
        }
    )
    assert meta.kind is PhotoKind.AFTER
    assert (meta.lat, meta.lng) == (35.79, -78.78)
    assert meta.taken_at is not None and meta.taken_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ({"sha256": SHA, "kind": "after"}, "metadata.work_order"),
        ({"work_order": "WO-1", "kind": "after"}, "metadata.sha256"),
        ({"work_order": "WO-1", "sha256": SHA}, "metadata.kind"),
        ({"work_order": "WO-1", "sha256": SHA.upper(), "kind": "after"}, "metadata.sha256"),
        ({"work_order": "WO-1", "sha256": SHA, "kind": "selfie"}, "metadata.kind"),
        ({"work_order": "WO-1", "sha256": SHA, "kind": "after", "lat": "north"}, "metadata.lat"),
        ({"work_order": "WO-1", "sha256": SHA, "kind": "after", "lat": "91"}, "metadata.lat"),
        ({"work_order": "WO 1; --", "sha256": SHA, "kind": "after"}, "metadata.work_order"),
    ],
)
def test_bad_metadata_values_are_422_naming_the_key(pairs: dict, field: str) -> None:
    with pytest.raises(InputInvalidError) as caught:
        tus.read_metadata(pairs)
    assert caught.value.field == field


def test_length_rules() -> None:
    assert tus.parse_length("1234", 25_000_000) == 1234
    with pytest.raises(ProtocolError, match="required"):
        tus.parse_length(None, 10)
    with pytest.raises(ProtocolError):
        tus.parse_length("-5", 10)
    with pytest.raises(InputInvalidError, match="empty") as empty:
        tus.parse_length("0", 10)
    assert empty.value.extra["reason"] == "empty"
    with pytest.raises(PayloadTooLargeError, match=r"30\.0 MB.*25 MB") as big:
        tus.parse_length("30000000", 25_000_000)
    assert big.value.extra["reason"] == "too_large"


def test_offset_must_be_a_whole_number() -> None:
    assert tus.parse_offset("0") == 0
    for bad in (None, "", "-1", "1.5", "9" * 20):
        with pytest.raises(ProtocolError):
            tus.parse_offset(bad)


def test_checksum_header_checks_the_digest() -> None:
    digest = base64.b64encode(hashlib.sha256(b"chunk").digest()).decode()
    checksum = tus.parse_checksum(f"sha256 {digest}")
    assert checksum is not None
    hasher = checksum.hasher()
    hasher.update(b"chunk")
    checksum.check(hasher)
    other = checksum.hasher()
    other.update(b"chunk!")
    with pytest.raises(ChecksumMismatchError) as caught:
        checksum.check(other)
    assert caught.value.status_code == 460
    assert tus.parse_checksum(None) is None


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("md4 AAAA", "not supported"),
        ("sha256 ***", "not base64"),
        ("sha256 " + base64.b64encode(b"short").decode(), "wrong length"),
    ],
)
def test_bad_checksum_headers_are_400(header: str, words: str) -> None:
    with pytest.raises(ProtocolError, match=words):
        tus.parse_checksum(header)


def test_version_and_content_type() -> None:
    tus.require_version("1.0.0")
    with pytest.raises(PreconditionFailedError, match=r"1\.0\.0"):
        tus.require_version("0.2.2")
    tus.require_offset_content_type("application/offset+octet-stream")
    with pytest.raises(UnsupportedMediaTypeError):
        tus.require_offset_content_type("image/jpeg")
