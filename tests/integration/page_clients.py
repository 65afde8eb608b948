"""Browser-like HTTP clients logged in through the login form, for the page tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import PASSWORD
from tests.integration.test_pages_roles import HTML, PageLogin, csrf_of


@contextmanager
def page_clients(server: str, login: Callable[[str], httpx.Client]) -> Iterator[PageLogin]:
    """`make(name)` logs the test account `name` in with a session cookie, as a browser would."""
    clients: list[httpx.Client] = []

    def make(name: str) -> httpx.Client:
        login(name)  # creates the account
        client = httpx.Client(base_url=server, timeout=30, headers=HTML)
        clients.append(client)
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"csrf_token": token, "username": name, "password": PASSWORD})
        assert answer.status_code == 303, answer.text
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()
