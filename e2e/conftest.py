"""Browser-test fixtures: the real app in a subprocess, Debian's Chromium via Playwright."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from backend.container import Services, build_services
from backend.settings import Settings
from e2e.server import CHROMIUM, CHROMIUM_ARGS, TEST_ENV, running_app
from tests.engines import (
    ENGINES,
    cassandra_keyspace,
    drop_postgres_database,
    fresh_postgres_database,
)

PASSWORD = "correct horse battery"
_counter = itertools.count(1)

# Records every status each own message shows, in order, so a test can see "pending" even
# though it lasts only milliseconds.
STATUS_RECORDER = """
window.__statuses = {};
new MutationObserver(() => {
  for (const el of document.querySelectorAll('[data-testid=message]')) {
    const text = el.querySelector('.message-text')?.textContent ?? '';
    const seen = (window.__statuses[text] ||= []);
    const status = el.dataset.status;
    if (status && seen[seen.length - 1] !== status) seen.push(status);
  }
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ['data-status']});
"""


@dataclass
class Person:
    username: str
    display_name: str
    page: Page


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app-data")


@pytest.fixture(scope="session")
def base_url(app_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("logs") / "app.log"
    with running_app(app_data_dir, log) as url:
        yield url


@pytest.fixture(scope="session")
def app_services(app_data_dir: Path, base_url: str) -> Services:
    """The same storage the running app uses, for arranging large histories quickly.

    (Its bus is this process's own, so what it writes reaches browsers on their next load.)
    """
    env = {**os.environ, **TEST_ENV, "CHAT_DATA_DIR": str(app_data_dir)}
    return build_services(Settings.from_env(env))


@pytest.fixture(scope="session")
def scale_servers() -> Iterator[dict[str, str]]:
    """Real Redis, PostgreSQL and Cassandra, started on first use and stopped at the end of
    the session (those that were running before are left running)."""
    yield ENGINES.ensure_up()
    ENGINES.stop_started()


@pytest.fixture(scope="module")
def scale_env(scale_servers: dict[str, str]) -> Iterator[dict[str, str]]:
    """The settings of a deployment on the real servers, with a database and keyspace of its
    own (for the processes of one test module)."""
    database = fresh_postgres_database(scale_servers["DATABASE_URL"], "chat_e2e_scale")
    try:
        with cassandra_keyspace(ENGINES.cassandra_hosts) as keyspace:
            yield {
                "DATABASE_URL": database,
                "REDIS_URL": scale_servers["REDIS_URL"],
                "CASSANDRA_HOSTS": scale_servers["CASSANDRA_HOSTS"],
                "CASSANDRA_KEYSPACE": keyspace,
            }
    finally:
        drop_postgres_database(scale_servers["DATABASE_URL"], database)


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    """An HTTP client for the API of the running app."""
    with httpx.Client(base_url=base_url, timeout=15) as http:
        yield http


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, base_url: str) -> Iterator[Callable[..., Page]]:
    """A page in a fresh browser context; ``options`` go to the context (a phone's
    ``viewport``, ``timezone_id``, ``has_touch``...)."""
    contexts = []

    def make(**options: Any) -> Page:
        context = browser.new_context(base_url=base_url, **options)
        context.set_default_timeout(15_000)
        context.add_init_script(STATUS_RECORDER)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def wait_hydrated(page: Page) -> None:
    """Wait until the page's socket is up, so clicks reach the server."""
    page.locator("[data-hydrated=true]").wait_for()


def sign_up(page: Page, name: str) -> Person:
    username = f"{name.lower()}{os.getpid()}x{next(_counter)}"
    page.goto("/signup")
    wait_hydrated(page)
    page.fill("input[name=username]", username)
    page.fill("input[name=display_name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/chats")
    return Person(username=username, display_name=name, page=page)


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    wait_hydrated(page)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/chats")


@pytest.fixture
def person(new_page: Callable[..., Page]) -> Callable[..., Person]:
    """A new user, signed up in a browser context of their own (options as ``new_page``)."""
    return lambda name, **options: sign_up(new_page(**options), name)


def start_chat(me: Person, other: Person) -> str:
    return start_chat_with(me, other.username, other.display_name)


def start_chat_with(me: Person, username: str, display_name: str) -> str:
    """Find ``username`` in the new-chat dialog and open the chat; returns its id."""
    page = me.page
    page.get_by_test_id("new-chat-button").click()
    page.get_by_test_id("new-chat-search").fill(username)
    page.get_by_test_id(f"new-chat-result-{username}").click()
    page.wait_for_url("**/chats/*")
    expect(page.get_by_test_id("chat-header")).to_contain_text(display_name)
    return page.url.rstrip("/").rsplit("/", 1)[1]


def send(page: Page, text: str) -> None:
    page.get_by_test_id("message-input").fill(text)
    page.get_by_test_id("message-input").press("Enter")


def statuses(page: Page, text: str) -> list[str]:
    return page.evaluate("t => window.__statuses[t] || []", text)
