"""Fixtures of the Open311 GeoReport v2 conformance tests: a third-party app's API key, used by
test_submit, test_requests and test_requests_life. The shared reading machinery in
conformance.py is not a test module, so pytest is told to rewrite its asserts as it does a test
module's (their failures then show the values compared).
"""

from __future__ import annotations

import pytest

from api.open311.keys import create_api_key
from tests.factories import Town

pytest.register_assert_rewrite("tests.open311.conformance")


@pytest.fixture
async def api_key(town: Town) -> str:
    """A key for a third-party app, in a town with its service types."""
    return await create_api_key("test-app")
