"""api/notifications/messages.py: what each notification says, and that it fits one push."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from api.notifications.messages import MAX_PAYLOAD_BYTES, Context, encode, render
from api.notifications.schemas import NotificationKind as K

CONTEXT = Context(
    case_id="2026-000123",
    tracking_token="tok" * 10,
    service="Streetlight out",
    address="100 N Academy St",
    work_order="WO-2026-000045",
    resolution="Repaired",
    due_at=datetime(2026, 12, 9, 17, 0, tzinfo=UTC),
    photo_sha256="ab" * 32,
)


def test_completed_carries_the_after_photo_and_the_status_page() -> None:
    payload = render(7, K.WORK_COMPLETED, CONTEXT)
    assert payload["title"] == "Done: Streetlight out"
    assert payload["body"] == (
        "Streetlight out at 100 N Academy St is done (repaired). Thank you for reporting it. "
        "Case 2026-000123."
    )
    assert payload["url"] == f"/track/{CONTEXT.tracking_token}"
    assert payload["image"] == f"/api/track/{CONTEXT.tracking_token}/photos/{'ab' * 32}/display"
    assert (payload["id"], payload["tag"]) == (7, "fieldloop-7")


def test_each_kind_says_what_happened() -> None:
    bodies = {kind: render(1, kind, CONTEXT)["body"] for kind in K}
    assert "We will let you know" in bodies[K.CASE_RECEIVED]
    assert "scheduled for December 9." in bodies[K.WORK_SCHEDULED]
    assert "repaired" in bodies[K.WORK_NOT_COMPLETED] and "call 311" in bodies[K.WORK_NOT_COMPLETED]
    assert bodies[K.URGENT_WORK] == "WO-2026-000045 at 100 N Academy St, due 17:00"
    assert render(1, K.URGENT_WORK, CONTEXT)["url"] == "/work-orders/WO-2026-000045"
    assert all("image" not in render(1, k, CONTEXT) for k in K if k is not K.WORK_COMPLETED)


def test_no_address_no_photo() -> None:
    bare = Context(
        case_id="2026-000001", tracking_token="t" * 32, service="Missed trash", address=None
    )
    payload = render(2, K.WORK_COMPLETED, bare)
    assert payload["body"].startswith("Missed trash is done.")
    assert "image" not in payload


def test_a_payload_always_fits_one_push_record() -> None:
    huge = render(3, K.WORK_COMPLETED, CONTEXT) | {"body": "é" * 5000}
    data = encode(huge)
    assert len(data) <= MAX_PAYLOAD_BYTES
    assert json.loads(data)["title"] == "Done: Streetlight out"
