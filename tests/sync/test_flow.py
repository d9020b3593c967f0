"""The sync loop over HTTP: register, full pull, push (with replay, gap and a bad mutation),
incremental pull."""

import httpx

from tests.factories import Town, make_work_order

DEVICE = "tablet-0001-aaaa"


async def test_register_pull_push_pull(client: httpx.AsyncClient, town: Town) -> None:
    crew = town.headers("crew_a")
    wo = await make_work_order(town, crew_id=town.crew_a)
    other = await make_work_order(town, crew_id=town.crew_b)
    response = await client.post("/api/sync/devices", json={"device_id": DEVICE}, headers=crew)
    assert response.status_code == 200, response.text

    response = await client.post("/api/sync/pull", json={"device_id": DEVICE}, headers=crew)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [b["work_order"]["number"] for b in page["work_orders"]] == [wo.number]
    assert other.number not in response.text
    assert page["reference"]["resolution_codes"]["completed"]["repaired"] == "Repaired"
    assert page["last_mutation_seq"] == 0
    cursor = page["cursor"]

    mutations = [
        {
            "seq": 1,
            "id": "m-0001-aaaa",
            "name": "add_note",
            "args": {"work_order": wo.number, "body": "Cones out"},
        },
        {
            "seq": 2,
            "id": "m-0002-aaaa",
            "name": "set_status",
            "args": {"work_order": wo.number, "status": "completed", "expected_status": "bogus"},
        },
        {
            "seq": 3,
            "id": "m-0003-aaaa",
            "name": "complete",
            "args": {"work_order": wo.number, "resolution_code": "repaired"},
        },
    ]
    response = await client.post(
        "/api/sync/push", json={"device_id": DEVICE, "mutations": mutations}, headers=crew
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert "bad arguments" in results[1]["reason"]

    again = await client.post(
        "/api/sync/push", json={"device_id": DEVICE, "mutations": mutations}, headers=crew
    )
    assert [r["replayed"] for r in again.json()["results"]] == [True, True, True]
    assert [r["status"] for r in again.json()["results"]] == ["applied", "rejected", "applied"]

    gap = await client.post(
        "/api/sync/push",
        json={"device_id": DEVICE, "mutations": [{**mutations[0], "seq": 5, "id": "m-0005-aaaa"}]},
        headers=crew,
    )
    assert gap.status_code == 409
    assert gap.json()["extra"]["expected_seq"] == 4

    response = await client.post(
        "/api/sync/pull", json={"device_id": DEVICE, "cursor": cursor}, headers=crew
    )
    page = response.json()
    assert page["last_mutation_seq"] == 3
    [bundle] = page["work_orders"]
    assert bundle["work_order"]["status"] == "completed"
    kinds = [entry["kind"] for entry in bundle["work_order"]["timeline"]]
    assert kinds.count("note") == 1 and "status_changed" in kinds

    response = await client.get(f"/api/cases/{wo.case.public_id}", headers=town.headers("advocate"))
    assert response.json()["status"] == "resolved"
