"""api/health.py: /healthz is 200 only when the database answers and photos can be stored."""

from pathlib import Path

import httpx
from litestar import Litestar
from piccolo.engine.base import Engine

from api import db as database
from api.app import create_app
from tests.conftest import make_settings


async def test_healthy_when_the_database_answers(client: httpx.AsyncClient, db: Engine) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": db.engine_type}


async def test_unavailable_when_the_database_does_not_answer(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/x.sqlite3", tmp_path)
    unreachable = database.build_engine(
        make_settings("postgresql://nobody@127.0.0.1:1/none", tmp_path)
    )
    app = create_app(settings, engine=unreachable)
    database.bind_engine(unreachable)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fieldloop.test") as c:
        response = await c.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "127.0.0.1" not in response.text  # no connection details leak to the caller


async def test_unavailable_when_photos_cannot_be_stored(
    client: httpx.AsyncClient, db: Engine, app: Litestar
) -> None:
    root = app.state.settings.media_root
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("a file where the photo directory should be")
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["detail"] == "photo storage not writable"
