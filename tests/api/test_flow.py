"""The whole loop over HTTP: a call becomes a case, a work order, is dispatched, worked and
completed, and the case resolves itself."""

from tests.factories import Town


async def test_call_to_completed_work(client, town: Town) -> None:
    advocate, supervisor, crew = (
        town.headers("advocate"),
        town.headers("supervisor"),
        town.headers("crew_a"),
    )
    response = await client.post(
        "/api/cases",
        json={
            "service_code": "pothole",
            "description": "Deep pothole outside number 12",
            "citizen": {"name": "Ada Caller", "phone": "(919) 555-0100"},
            "place": {"address": "12 Main St.", "lat": 35.79, "lng": -78.78},
            "attributes": {"size": "large"},
        },
        headers=advocate,
    )
    assert response.status_code == 201, response.text
    case = response.json()
    assert case["status"] == "open"
    assert case["citizen"]["phone"] == "9195550100"
    assert len(case["tracking_token"]) >= 32

    response = await client.post(
        f"/api/cases/{case['public_id']}/work-orders", json={"priority": "high"}, headers=advocate
    )
    assert response.status_code == 201, response.text
    number = response.json()["number"]

    response = await client.post(
        f"/api/work-orders/{number}/assign", json={"crew_id": town.crew_a}, headers=supervisor
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assigned"

    for status in ("en_route", "on_site"):
        response = await client.post(
            f"/api/work-orders/{number}/status", json={"status": status}, headers=crew
        )
        assert response.status_code == 200, response.text
    response = await client.post(
        f"/api/work-orders/{number}/status",
        json={"status": "completed", "resolution_code": "repaired", "note": "Filled with asphalt"},
        headers=crew,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"

    response = await client.get(f"/api/cases/{case['public_id']}", headers=advocate)
    body = response.json()
    assert body["status"] == "resolved"
    kinds = [entry["kind"] for entry in body["timeline"]]
    assert kinds[0] == "case_created"
    assert "note" in kinds and kinds[-1] == "case_status"
