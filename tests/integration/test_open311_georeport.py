"""Acceptance: `georeport` (PyPI, 0.3.1), a third-party GeoReport v2 client, against a live server.

It reads services, service definitions and requests in JSON and in XML. georeport has no call
that creates a request (its API is read-only: get_service_list, get_service_definition,
get_service_requests, get_service_request), so the form-encoded POST is sent with `requests`,
the HTTP library georeport itself uses; the created request then flows through dispatch, and
georeport reads back the outcome.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from georeport import GeoReport  # type: ignore[import-untyped]
from sqlalchemy import select

from megacity.bootstrap import Megacity
from megacity.domain.enums import Status, Urgency
from megacity.services import apikeys, queries
from megacity.store.followup_tables import dispatch_decisions

V2 = "/open311/v2"


def leaf(megacity: Megacity) -> tuple[str, str]:
    for c in sorted(megacity.profile.catalogue.leaves(), key=lambda c: c.code):
        if c.is_territorial and c.urgency is Urgency.GENERAL:
            return c.code[:4], c.code
    raise AssertionError("no territorial leaf")


def create(server: str, megacity: Megacity, key: str, **place: str) -> str:
    service, code = leaf(megacity)
    form = {
        "api_key": key,
        "service_code": service,
        "attribute[category]": code,
        "description": "路灯不亮",
        **place,
    }
    answer = requests.post(f"{server}{V2}/requests.json", data=form, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return str(answer.json()[0]["service_request_id"])


def decision(megacity: Megacity, ticket_id: str) -> Any:
    with megacity.engine.connect() as conn:
        rows = conn.execute(
            select(dispatch_decisions).where(dispatch_decisions.c.ticket_id == ticket_id)
        ).all()
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_definitions_and_requests(server: str, megacity: Megacity, fmt: str) -> None:
    key = apikeys.create(app=megacity, name="georeport")[1]
    client = GeoReport(f"{server}{V2}", output_format=fmt)
    services = client.get_service_list()
    service, code = leaf(megacity)
    assert len(services) == len({c.code[:4] for c in megacity.profile.catalogue.leaves()})
    listed = next(s for s in services if s["service_code"] == service)
    assert listed["metadata"] in (True, "true") and listed["type"] == "realtime"
    definition = client.get_service_definition(service)
    assert definition["service_code"] == service
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    category = next(a for a in attributes if a["code"] == "category")
    values = category["values"] if fmt == "json" else category["values"]["value"]
    assert code in {v["key"] for v in values}

    dispatched = create(server, megacity, key, address_id="110101001")
    queued = create(server, megacity, key, lat="39.9", long="116.4")  # no street: no unit to choose
    found = client.get_service_requests()
    found = found if isinstance(found, list) else [found]  # xmltodict: one element is not a list
    assert {r["service_request_id"] for r in found} == {dispatched, queued}
    one = client.get_service_request(dispatched)
    assert (one["status"], one["detailed_status"], one["agency_responsible"]) == (
        "open",
        "RECEIVED",
        "东华门街道",
    )
    by_id = client.get_service_requests(service_request_id=queued)
    assert [r["service_request_id"] for r in (by_id if isinstance(by_id, list) else [by_id])] == [queued]


def test_a_form_post_flows_through_dispatch(server: str, megacity: Megacity) -> None:
    key = apikeys.create(app=megacity, name="georeport")[1]
    client = GeoReport(f"{server}{V2}")
    dispatched = create(server, megacity, key, address_id="110101001")
    ticket = queries.get_ticket(app=megacity, ticket_id=dispatched)
    assert (ticket.status, ticket.unit_code) == (Status.DISPATCHED, "110101001")
    auto = decision(megacity, dispatched)
    assert (auto.mode, auto.unit_code) == ("auto", "110101001") and auto.reason

    queued = create(server, megacity, key, lat="39.9", long="116.4")
    waiting = queries.get_ticket(app=megacity, ticket_id=queued)
    assert (waiting.status, waiting.unit_code) == (Status.RECEIVED, None)
    human = decision(megacity, queued)
    assert human.mode == "queued" and human.reason  # why a human dispatcher must decide
    assert client.get_service_request(queued)["detailed_status"] == "PENDING"
