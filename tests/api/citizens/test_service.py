"""api/citizens/service.py: phone, email and address normalisation, and finding callers."""

from __future__ import annotations

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from api.citizens.service import (
    get_citizen,
    get_place,
    normalize_address,
    normalize_email,
    normalize_phone,
    search_citizens,
)
from api.errors import InputInvalidError, NotFoundError, PermissionDeniedError
from api.settings import Settings
from tests.factories import Town, make_case, shared_app


@pytest.fixture
def app(settings: Settings, db: Engine) -> Litestar:
    return shared_app(settings)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("919-555-0100", "9195550100"),
        ("(919) 555-0100", "9195550100"),
        ("919.555.0100", "9195550100"),
        ("  919 555 0100  ", "9195550100"),
        ("919-555-0100 x123", "9195550100"),
        ("919-555-0100x123", "9195550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("555-0100", "5550100"),  # seven digits: a local number
        ("+123456789012345", "+123456789012345"),  # fifteen: the E.164 maximum
        ("", None),
        ("   ", None),
    ],
)
def test_normalize_phone(raw: str, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["555-010", "12", "1234567890123456", "+", "x123"])
def test_normalize_phone_refuses_wrong_lengths(raw: str) -> None:
    with pytest.raises(InputInvalidError) as refused:
        normalize_phone(raw)
    assert refused.value.field == "citizen.phone"
    assert refused.value.status_code == 422


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com\t", "ada@example.com"),
        ("", None),
        ("   ", None),
    ],
)
def test_normalize_email(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 N. Main St.", "12 north main street"),
        ("12 north main street", "12 north main street"),
        ("12 NORTH MAIN ST", "12 north main street"),
        ("12 N Main St., Apt 4", "12 north main street apt 4"),
        ("  400  W.  Chatham   St ", "400 west chatham street"),
        ("1 Kildaire Farm Rd", "1 kildaire farm road"),
        ("7 Oak Ave.", "7 oak avenue"),
        ("7 Oak Av", "7 oak avenue"),
        ("9 Harrison Blvd", "9 harrison boulevard"),
        ("3 Stevens Ct", "3 stevens court"),
        ("101 Walnut-St.", "101 walnut street"),
        ("", ""),
    ],
)
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


def test_different_places_stay_different() -> None:
    assert normalize_address("12 Main St") != normalize_address("12 N Main St")
    assert normalize_address("12 Main St") != normalize_address("21 Main St")
    assert normalize_address("12 Main St") != normalize_address("12 Main Ave")


async def test_search_citizens(town: Town) -> None:
    ada = await make_case(town, name="Ada Lovelace", phone="(919) 555-0100", email="ada@x.org")
    grace = await make_case(town, name="Grace Hopper", phone="919-555-0177", email="gh@navy.mil")
    await make_case(town, anonymous=True)
    assert ada.citizen is not None and grace.citizen is not None
    advocate = town.advocate

    async def names(q: str) -> list[str]:
        return [c.name for c in await search_citizens(advocate, q)]

    assert await names("919.555.0100") == ["Ada Lovelace"]  # phone, any formatting
    assert await names("555-0177") == ["Grace Hopper"]
    assert await names("5550") == ["Ada Lovelace", "Grace Hopper"]  # ordered by name
    assert await names("lovelace") == ["Ada Lovelace"]  # part of the name, any case
    assert await names("HOPP") == ["Grace Hopper"]
    assert await names("GH@NAVY") == ["Grace Hopper"]  # email
    assert await names("  ada  ") == ["Ada Lovelace"]
    assert await names("nobody") == []
    assert await names("a%e") == []  # LIKE wildcards are not the caller's to use
    assert await names("a_a") == []
    found = await search_citizens(advocate, "Ada")
    assert found[0].id == ada.citizen.id and found[0].phone == "9195550100"


@pytest.mark.parametrize("q", ["a", " a ", "  ", ""])
async def test_search_needs_two_characters(town: Town, q: str) -> None:
    with pytest.raises(InputInvalidError) as refused:
        await search_citizens(town.advocate, q)
    assert refused.value.status_code == 422 and refused.value.field == "q"


async def test_crews_cannot_look_up_citizens_or_places(town: Town) -> None:
    case = await make_case(town)
    assert case.citizen is not None and case.place is not None
    crew = town.users["crew_a"]
    with pytest.raises(PermissionDeniedError):
        await search_citizens(crew, "Ada")
    with pytest.raises(PermissionDeniedError):
        await get_citizen(crew, case.citizen.id)
    with pytest.raises(PermissionDeniedError):
        await get_place(crew, case.place.id)
    assert (await get_citizen(town.advocate, case.citizen.id)).name == "Ada Caller"
    assert (await get_place(town.advocate, case.place.id)).address == "12 Main St"
    with pytest.raises(NotFoundError):
        await get_citizen(town.advocate, 9999)
    with pytest.raises(NotFoundError):
        await get_place(town.advocate, 9999)
