"""api/request_log.py: one line per request, including refused ones, without query strings."""

import logging

import httpx
import pytest

from tests.factories import Town


async def test_every_request_is_one_line_without_the_query(
    client: httpx.AsyncClient, town: Town, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="fieldloop.request"):
        await client.get("/api/cases?q=tracking-token-secret")  # refused: no token
        await client.get("/api/cases?status=open", headers=town.headers("advocate"))
    lines = [r.getMessage() for r in caplog.records if r.name == "fieldloop.request"]
    assert len(lines) == 2
    assert "status=401" in lines[0] and "user=-" in lines[0]
    assert "status=200" in lines[1] and f"user={town.advocate.id}" in lines[1]
    assert all("path=/api/cases " in line and "secret" not in line for line in lines)


async def test_a_tracking_token_in_the_path_is_not_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = "citizen-secret-tracking-token-123456"
    with caplog.at_level(logging.INFO, logger="fieldloop.request"):
        await client.get(f"/api/track/{token}/photos")
    [line] = [r.getMessage() for r in caplog.records if r.name == "fieldloop.request"]
    assert "path=/api/track/-/photos " in line and "status=404" in line
    assert token not in line
