"""Open311's two formats from one structure: JSON as is, XML as the specification spells it.

The service layer answers with plain lists and dicts (keys in the specification's order). JSON
is those, with datetimes as ISO 8601 strings. XML wraps them the way GeoReport v2 does: a list
becomes an element named for the list, one child element per item named for what it holds
(`<services><service>…`, `<attributes><attribute>…`); `None` is an empty element, so every
field is always present; booleans are `true`/`false`. Built with ElementTree, so text is
escaped and the result is well-formed by construction.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

FORMATS = {"json": "application/json", "xml": "text/xml"}

# a list's element name → the name of each item inside it
ITEMS = {
    "services": "service",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "notes": "note",
    "photos": "photo",
}


# characters XML 1.0 cannot carry at all (ElementTree would write them and break the document)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return _NOT_XML.sub("", str(value))


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item)
    elif isinstance(value, list):
        name = ITEMS[element.tag]
        for item in value:
            _fill(ElementTree.SubElement(element, name), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """`value` as the XML document `<root>…</root>`."""
    element = ElementTree.Element(root)
    _fill(element, value)
    body = ElementTree.tostring(element, encoding="unicode", short_empty_elements=True)
    # a raw carriage return would reach XML readers as a plain newline (XML 1.0 §2.11):
    # escaped, a "\r\n" from a browser's textarea reads the same in XML as in JSON
    body = body.replace("\r", "&#13;")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(value: Any) -> bytes:
    return json.dumps(value, default=_default, ensure_ascii=False).encode()


def render(fmt: str, root: str, value: Any) -> tuple[bytes, str]:
    """The body and its content type."""
    if fmt == "xml":
        return to_xml(root, value), FORMATS["xml"]  # Litestar adds "; charset=utf-8" to text/*
    return to_json(value), f"{FORMATS['json']}; charset=utf-8"


def split_format(name: str) -> tuple[str, str | None]:
    """`requests.json` → ("requests", "json"); no known suffix → (name, None)."""
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix in FORMATS:
        return stem, suffix
    return name, None
