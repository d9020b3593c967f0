"""Open311 requests are ordinary cases: filed as the key's app, worked by advocates and crews,
closed in Open311 by the crew's completion; and Open311 output is open data, never personal."""

from __future__ import annotations

import json

import httpx
import pytest

from api.open311.keys import create_api_key
from tests import factories
from tests.factories import Town

pytestmark = pytest.mark.usefixtures("db")

V2 = "/open311/v2"


@pytest.fixture
async def key() -> str:
    return await create_api_key("test-app")


async def submit(client: httpx.AsyncClient, key: str, **fields: str) -> httpx.Response:
    form = {
        "api_key": key,
        "service_code": "pothole",
        "lat": "35.7915",
        "long": "-78.7811",
        "address_string": "100 N Academy St, Cary, NC 27511",
        "attribute[size]": "large",
        "description": "A deep pothole by the school",
        "first_name": "Ada",
        "last_name": "Caller",
        "email": "ada@example.org",
        "phone": "919-555-0100",
    }
    return await client.post(f"{V2}/requests.json", data=form | fields)


async def test_a_posted_request_is_a_case_and_its_completion_closes_it(
    client: httpx.AsyncClient, town: Town, key: str
) -> None:
    posted = await submit(client, key)
    assert posted.status_code == 201, posted.text
    request_id = posted.json()[0]["service_request_id"]

    case = await client.get(f"/api/cases/{request_id}", headers=town.headers("advocate"))
    assert case.status_code == 200
    assert case.json()["channel"] == "open311"
    assert case.json()["citizen"]["name"] == "Ada Caller"
    assert case.json()["timeline"][0]["actor"] == "Open311: test-app"

    [opened] = (await client.get(f"{V2}/requests/{request_id}.json")).json()
    assert (opened["status"], opened["zipcode"]) == ("open", "27511")
    work = await client.post(
        f"/api/cases/{request_id}/work-orders",
        json={"crew_id": town.crew_a},
        headers=town.headers("supervisor"),
    )
    number = work.json()["number"]
    for change in ({"status": "on_site"}, {"status": "completed", "resolution_code": "repaired"}):
        done = await client.post(
            f"/api/work-orders/{number}/status", json=change, headers=town.headers("crew_a")
        )
        assert done.status_code == 200, done.text
    [closed] = (await client.get(f"{V2}/requests/{request_id}.json")).json()
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "Work completed: Repaired"
    assert closed["updated_datetime"] >= opened["updated_datetime"]  # to the second
    assert closed["media_url"] is None  # no photo yet

    photo = factories.photo_jpeg(800, 600, gps=(35.79, -78.78))
    await factories.upload_photo(client, town.headers("crew_a"), number, photo, "after")
    [shown] = (await client.get(f"{V2}/requests/{request_id}.json")).json()
    assert shown["media_url"].startswith("http://fieldloop.test/open311/v2/media/")
    image = await client.get(shown["media_url"])  # no login: open data
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.headers["Cache-Control"].startswith("public")
    assert factories.sha256_of(photo) in shown["media_url"]
    assert b"Exif" not in image.content  # the display image: no GPS


async def test_nothing_personal_ever_appears(
    client: httpx.AsyncClient, town: Town, key: str
) -> None:
    await submit(client, key)
    phone_case = await factories.make_case(town, description="Mrs Jones at no. 4 is unwell")
    assert phone_case.public_id
    for fmt in ("json", "xml"):
        for path in (f"requests.{fmt}?extensions=true", f"requests/{phone_case.public_id}.{fmt}"):
            body = (await client.get(f"{V2}/{path}")).text
            for secret in ("Ada", "Caller", "ada@example.org", "555-0100", "Mrs Jones"):
                assert secret not in body, (path, secret)
            assert phone_case.tracking_token not in body


async def test_filters_and_pages(client: httpx.AsyncClient, town: Town, key: str) -> None:
    ids = [(await submit(client, key)).json()[0]["service_request_id"] for _ in range(5)]
    await factories.make_case(town, service_code="general_question", address=None)
    newest_first = (await client.get(f"{V2}/requests.json?service_code=pothole")).json()
    assert [r["service_request_id"] for r in newest_first] == ids[::-1]
    page = (await client.get(f"{V2}/requests.json?page_size=2&page=2")).json()
    assert [r["service_request_id"] for r in page] == [ids[3], ids[2]]
    picked = await client.get(
        f"{V2}/requests.json?service_request_id={ids[0]},{ids[4]}&status=closed"
    )  # the ids override every other filter
    assert sorted(r["service_request_id"] for r in picked.json()) == [ids[0], ids[4]]
    assert (await client.get(f"{V2}/requests.json?status=closed")).json() == []
    old = await client.get(f"{V2}/requests.json?end_date=2001-01-01T00:00:00Z")
    assert old.json() == []


async def test_multi_value_attributes_and_several_errors_at_once(
    client: httpx.AsyncClient, key: str, town: Town
) -> None:
    bad = await client.post(
        f"{V2}/requests.json",
        data={"api_key": key, "lat": "95", "long": "", "description": "x" * 4001},
    )
    assert bad.status_code == 400
    codes = [e["code"] for e in bad.json()]
    assert codes == [400, 400, 400, 400]
    assert {e["description"].split(" ")[0] for e in bad.json()} >= {"service_code", "lat"}
    wrong_answer = await submit(client, key, **{"attribute[size]": "enormous"})
    assert wrong_answer.status_code == 400
    assert wrong_answer.json()[0]["description"].startswith("attribute[size]:")
    unknown = await submit(client, key, service_code="dragons")
    assert (unknown.status_code, unknown.json()[0]["code"]) == (404, 404)


async def test_tokens_lead_to_the_request(client: httpx.AsyncClient, key: str, town: Town) -> None:
    posted = (await submit(client, key)).json()[0]
    answer = await client.get(f"{V2}/tokens/{posted['token']}.json")
    assert answer.json() == [
        {"service_request_id": posted["service_request_id"], "token": posted["token"]}
    ]
    assert (await client.get(f"{V2}/tokens/nope.json")).status_code == 404


async def test_an_unknown_format_or_resource_is_404(client: httpx.AsyncClient) -> None:
    for path in ("services.yaml", "services", "everything.json"):
        response = await client.get(f"{V2}/{path}")
        assert response.status_code == 404
        assert json.loads(response.text)[0]["code"] == 404
