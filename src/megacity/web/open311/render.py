"""GeoReport answers as JSON or XML, one structure for both (the Spark convention).

The JSON form is built first; the XML is its programmatic mapping: the root element is the
one the spec names (`services`, `service_requests`, `errors` ...), a list becomes a container
whose children all have the item name (`service`, `request`, `error`, `attribute`, `value`,
`endpoint`, `format`), `null` an empty element, booleans `true`/`false`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from fastapi.responses import Response

MEDIA_TYPES: Mapping[str, str] = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
#: XML is the format the spec requires; it answers when the asked-for format is unknown.
DEFAULT_FORMAT = "xml"
ITEM_NAMES: Mapping[str, str] = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}

_TEXT = {"schema": {"type": "string"}}
_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
#: What the OpenAPI document says of every route: JSON or XML, GeoReport error lists.
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the answer, as the path's suffix asks", "content": {"text/xml": _TEXT}},
    **{
        code: {"description": text, "content": {"application/json": {"schema": _ERRORS}, "text/xml": _TEXT}}
        for code, text in {
            400: "invalid argument",
            403: "missing, unknown or revoked api_key; the public list switched off",
            404: "unknown jurisdiction_id, service_code, request, token or format",
            429: "too many requests (Retry-After)",
        }.items()
    },
}

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def format_of(path: str) -> str:
    """The format a path asks for by its suffix (`.json`, `.xml`), else XML.

    >>> format_of("/open311/v2/services.json"), format_of("/open311/v2/services.csv")
    ('json', 'xml')
    """
    suffix = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    return suffix if suffix in MEDIA_TYPES else DEFAULT_FORMAT


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _element(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    _fill(node, name, value)


def _fill(node: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list | tuple):
        item_name = ITEM_NAMES.get(name, "item")
        for item in value:
            _element(node, item_name, item)
    elif value is not None:
        node.text = _text(value)


def to_xml(root: str, data: Any) -> str:
    """The XML form of `data` under `root`.

    >>> to_xml("errors", [{"code": 404, "description": "no such service"}])[38:]
    '<errors><error><code>404</code><description>no such service</description></error></errors>'
    """
    node = ET.Element(root)
    _fill(node, root, data)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(node, encoding="unicode")


def render(
    fmt: str, root: str, data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """An answer in `fmt` (json or xml)."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    else:
        body = to_xml(root, data)
    return Response(body.encode(), status_code=status, media_type=MEDIA_TYPES[fmt], headers=headers)


def errors(
    fmt: str, status: int, descriptions: list[str], headers: Mapping[str, str] | None = None
) -> Response:
    """The GeoReport error list: `[{"code": 400, "description": "..."}]` or `<errors>`."""
    items = [{"code": status, "description": d} for d in descriptions]
    return render(fmt, "errors", items, status=status, headers=headers)
