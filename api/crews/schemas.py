"""Crews as the dispatch screen lists them."""

import msgspec


class CrewOut(msgspec.Struct):
    id: int
    name: str
    department: str
    active: bool
    members: list[str]
