"""Constrained string and number types shared by every domain's request schemas.

Limits live here once: a NUL byte (which PostgreSQL refuses in text) or an over-long value is a
400 naming the field, never a 500 from the database driver.
"""

from typing import Annotated

import msgspec

_NO_NUL = r"^[^\x00]*$"

ShortText = Annotated[str, msgspec.Meta(max_length=200, pattern=_NO_NUL)]
Name = Annotated[str, msgspec.Meta(max_length=120, pattern=_NO_NUL)]
LongText = Annotated[str, msgspec.Meta(max_length=4000, pattern=_NO_NUL)]
Address = Annotated[str, msgspec.Meta(max_length=300, pattern=_NO_NUL)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
DbId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
