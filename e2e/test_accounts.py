"""Signing up, signing in and out, and sessions that survive reloads and new tabs."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.conftest import PASSWORD, send, start_chat, wait_hydrated


def test_session_survives_reload_and_new_tab_and_ends_at_sign_out(person):
    alice = person("Alice")
    alice.page.reload()
    expect(alice.page.get_by_test_id("me-name")).to_have_text("Alice")
    other_tab = alice.page.context.new_page()
    other_tab.goto("/chats")
    expect(other_tab.get_by_test_id("me-name")).to_have_text("Alice")

    alice.page.get_by_test_id("sign-out-button").click()
    alice.page.wait_for_url("**/login")
    other_tab.goto("/chats")
    other_tab.wait_for_url("**/login")


def test_strangers_are_sent_to_sign_in(new_page):
    page = new_page()
    page.goto("/chats")
    page.wait_for_url("**/login")


def test_wrong_password_and_taken_username_say_so(person, new_page):
    alice = person("Alice")
    page = new_page()
    page.goto("/login")
    wait_hydrated(page)
    page.fill("input[name=username]", alice.username)
    page.fill("input[name=password]", "not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")

    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/chats")

    other = new_page()
    other.goto("/signup")
    wait_hydrated(other)
    other.fill("input[name=username]", alice.username.upper())
    other.fill("input[name=display_name]", "Impostor")
    other.fill("input[name=password]", PASSWORD)
    other.get_by_role("button", name="Create account").click()
    expect(other.get_by_role("alert")).to_have_text("That username is taken.")
    expect(other).to_have_url(re.compile(r"/signup/?$"))


def test_weak_password_is_refused_with_a_reason(new_page):
    page = new_page()
    page.goto("/signup")
    wait_hydrated(page)
    page.fill("input[name=username]", "weakling")
    page.fill("input[name=display_name]", "Weak")
    page.fill("input[name=password]", "short")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 8 characters")
    expect(page.locator("input[name=password]")).to_have_attribute("aria-invalid", "true")


def test_signing_out_in_one_tab_signs_out_the_others_live(person):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    other_tab = alice.page.context.new_page()
    other_tab.goto(f"/chats/{chat_id}")
    expect(other_tab.get_by_test_id("chat-header")).to_contain_text("Bob")

    alice.page.get_by_test_id("sign-out-button").click()
    alice.page.wait_for_url("**/login")
    other_tab.wait_for_url("**/login")


def test_a_session_ended_elsewhere_stops_sending_and_stores_nothing(person, app_services):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    expect(alice.page.get_by_test_id("chat-header")).to_contain_text("Bob")  # page fully loaded
    token = next(c["value"] for c in alice.page.context.cookies() if c["name"] == "chat_session")
    # Revoked from another process: no event reaches the app, so only the per-action check can
    # notice (as with a session that expires while the tab stays open).
    app_services.accounts.logout(token)

    send(alice.page, "after the session ended")
    expect(alice.page.get_by_test_id("composer-error")).to_contain_text("session has ended")
    expect(alice.page.get_by_test_id("message")).to_have_attribute("data-status", "failed")
    bob_id = next(
        u.id
        for u in app_services.accounts.search_users("", bob.username)
        if u.username == bob.username
    )
    assert app_services.messaging.list_messages(bob_id, chat_id).messages == []
