"""The public REST API, accounts and people: sign-up, sign-in and out, users."""

from __future__ import annotations

import json
import uuid

import pytest

from e2e.api_helpers import (
    API,
    PASSWORD,
    Account,
    assert_error,
    auth,
    history,
    login,
    open_chat,
    register,
    register_raw,
    send,
    text,
    unique_username,
)

# --- sign-up --------------------------------------------------------------------------------


def test_register_returns_201_a_working_token_and_a_camel_case_user(client):
    username = unique_username("reg")
    response = register_raw(
        client, username=f"  {username.upper()} ", displayName="Ada  Lovelace", password=PASSWORD
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"token", "user"}
    assert set(body["user"]) == {"id", "username", "displayName"}
    assert body["user"]["username"] == username  # trimmed and lowercased
    assert body["user"]["displayName"] == "Ada Lovelace"
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    me = client.get(f"{API}/users/me", headers=auth(body["token"]))
    assert me.status_code == 200
    assert me.json() == body["user"]


def test_register_a_taken_username_is_409_conflict_and_changes_nothing(client):
    first = register(client, "dup", "First")
    for taken in (first.username, first.username.upper()):
        response = register_raw(
            client, username=taken, displayName="Second", password="another good password"
        )
        assert_error(response, 409, "conflict")

    # The first account is intact: its password and name are unchanged.
    assert login(client, first)
    me = client.get(f"{API}/users/me", headers=first.headers).json()
    assert me["displayName"] == "First"


@pytest.mark.parametrize("password", ["short", "1234567", "        ", "x" * 257])
def test_register_a_weak_or_overlong_password_is_400_and_creates_no_account(client, password):
    username = unique_username("weak")
    response = register_raw(client, username=username, displayName="Weak", password=password)
    body = assert_error(response, 400, "invalid_input")
    assert "Password" in body["message"]
    # Nothing was created: the same username is still free.
    ok = register_raw(client, username=username, displayName="Weak", password=PASSWORD)
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "ab"),
        ("username", "has space"),
        ("username", "émile"),
        ("username", "x" * 33),
        ("displayName", ""),
        ("displayName", "   "),
        ("displayName", "\u200b"),
        ("displayName", "n" * 65),
    ],
)
def test_register_with_an_invalid_username_or_name_is_400(client, field, value):
    body = {"username": unique_username("bad"), "displayName": "Fine", "password": PASSWORD}
    body[field] = value
    assert_error(register_raw(client, **body), 400, "invalid_input")


@pytest.mark.parametrize("raw", [b"{bad", b'{"username": "abc",', b"\xff\xfe", b"{'a': 1}"])
def test_register_with_malformed_json_is_400_invalid_json(client, raw):
    response = client.post(
        f"{API}/auth/register", content=raw, headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    "body",
    [
        {"username": 5, "displayName": "Typed", "password": PASSWORD},
        {"username": "PLACEHOLDER", "displayName": ["Typed"], "password": PASSWORD},
        {"username": "PLACEHOLDER", "displayName": "Typed", "password": None},
        {"username": "PLACEHOLDER", "displayName": "Typed"},
        [],
        "just a string",
        None,
    ],
    ids=["int-username", "list-name", "null-password", "missing-password", "list", "str", "null"],
)
def test_register_with_wrong_types_or_missing_fields_is_400(client, body):
    username = unique_username("typ")
    if isinstance(body, dict) and body.get("username") == "PLACEHOLDER":
        body = {**body, "username": username}
    response = client.post(
        f"{API}/auth/register",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )
    assert_error(response, 400, "invalid_input")
    # Whatever was wrong, no account exists under that name.
    ok = register_raw(client, username=username, displayName="Typed", password=PASSWORD)
    assert ok.status_code == 201


def test_register_with_an_unknown_field_is_400_naming_it(client):
    response = register_raw(
        client,
        username=unique_username("extra"),
        displayName="Extra",
        password=PASSWORD,
        isAdmin=True,
    )
    body = assert_error(response, 400, "invalid_input")
    assert "isAdmin" in body["message"]


# --- sign-in and sign-out -------------------------------------------------------------------


def test_login_starts_a_second_session_and_ignores_username_case(client):
    account = register(client, "login")
    response = client.post(
        f"{API}/auth/login",
        json={"username": f" {account.username.upper()} ", "password": PASSWORD},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token", "user"}
    assert body["user"] == account.user
    assert body["token"] != account.token
    for token in (account.token, body["token"]):  # both sessions are valid at once
        assert client.get(f"{API}/users/me", headers=auth(token)).json()["id"] == account.id


def test_login_with_a_wrong_password_or_unknown_user_is_the_same_401(client):
    account = register(client, "wrongpw")
    wrong = client.post(
        f"{API}/auth/login", json={"username": account.username, "password": "not the password"}
    )
    unknown = client.post(
        f"{API}/auth/login", json={"username": unique_username("ghost"), "password": PASSWORD}
    )
    body = assert_error(wrong, 401, "unauthenticated")
    assert assert_error(unknown, 401, "unauthenticated") == body  # doesn't say which was wrong


def test_login_failures_are_rate_limited_per_username_with_retry_after(client):
    account = register(client, "brute")
    for _ in range(5):
        response = client.post(
            f"{API}/auth/login", json={"username": account.username, "password": "guess 1234"}
        )
        assert_error(response, 401, "unauthenticated")

    # The 6th attempt is refused before the password is even checked: even the right one.
    for password in ("guess 1234", PASSWORD):
        response = client.post(
            f"{API}/auth/login", json={"username": account.username, "password": password}
        )
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0

    # Per username: someone else signs in from the same place without trouble, and the
    # existing session of the targeted account keeps working.
    other = register(client, "bystander")
    assert login(client, other)
    assert client.get(f"{API}/users/me", headers=account.headers).status_code == 200


def test_logout_is_204_and_the_token_is_then_refused_everywhere(client):
    account = register(client, "bye")
    peer = register(client, "peer")
    chat_id = open_chat(client, account, peer)
    second_device = login(client, account)

    response = client.post(f"{API}/auth/logout", headers=account.headers)
    assert response.status_code == 204
    assert response.content == b""

    for method, path, body in authenticated_routes(chat_id, peer.id):
        response = client.request(method, path, json=body, headers=account.headers)
        assert_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    # Signing out once more is refused too; the other session is untouched.
    assert_error(client.post(f"{API}/auth/logout", headers=account.headers), 401, "unauthenticated")
    me = client.get(f"{API}/users/me", headers=auth(second_device))
    assert me.status_code == 200
    assert me.json()["id"] == account.id


def authenticated_routes(chat_id: str, user_id: str) -> list[tuple[str, str, object]]:
    """Every route that needs a token, with a valid body where it takes one."""
    return [
        ("POST", f"{API}/auth/logout", None),
        ("GET", f"{API}/users?q=a", None),
        ("GET", f"{API}/users/me", None),
        ("PUT", f"{API}/users/me", {"displayName": "Someone"}),
        ("GET", f"{API}/users/me/contacts", None),
        ("GET", f"{API}/users/{user_id}", None),
        ("GET", f"{API}/chats", None),
        ("POST", f"{API}/chats", {"participantIds": [user_id]}),
        ("GET", f"{API}/chats/{chat_id}", None),
        ("GET", f"{API}/chats/{chat_id}/messages", None),
        ("POST", f"{API}/chats/{chat_id}/messages", {"tempId": "t", "content": text("hi")}),
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer garbage-token"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
        {"Authorization": "garbage"},
    ],
    ids=["none", "garbage-bearer", "basic", "no-scheme"],
)
def test_no_or_a_bad_token_is_401_with_www_authenticate_on_every_route(client, headers):
    owner, peer = register(client, "owner"), register(client, "peer")
    chat_id = open_chat(client, owner, peer)

    for method, path, body in authenticated_routes(chat_id, peer.id):
        response = client.request(method, path, json=body, headers=headers)
        assert_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer", (method, path)

    # Nothing the refused calls tried happened.
    assert history(client, owner, chat_id) == []
    assert client.get(f"{API}/users/me", headers=owner.headers).json() == owner.user
    assert (
        client.get(f"{API}/chats", headers=owner.headers).json()["chats"][0]["lastMessage"] is None
    )


# --- users ----------------------------------------------------------------------------------


def test_search_users_by_username_prefix_or_display_name_never_oneself(client):
    me = register(client, "searcher", "Searcher")
    marker = uuid.uuid4().hex[:10]
    target = register(client, "target", f"Zelda {marker}")

    by_prefix = client.get(f"{API}/users", params={"q": target.username[:14]}, headers=me.headers)
    assert by_prefix.status_code == 200
    assert by_prefix.json() == {"users": [target.user]}

    by_name = client.get(f"{API}/users", params={"q": marker}, headers=me.headers).json()
    assert [u["id"] for u in by_name["users"]] == [target.id]

    myself = client.get(f"{API}/users", params={"q": me.username}, headers=me.headers).json()
    assert myself == {"users": []}
    empty = client.get(f"{API}/users", params={"q": "   "}, headers=me.headers).json()
    assert empty == {"users": []}
    too_long = client.get(f"{API}/users", params={"q": "q" * 257}, headers=me.headers)
    assert_error(too_long, 400, "invalid_input")


def test_get_and_rename_me(client):
    me = register(client, "renamer", "Old Name")
    other = register(client, "viewer")
    got = client.get(f"{API}/users/me", headers=me.headers)
    assert got.status_code == 200
    assert got.json() == {"id": me.id, "username": me.username, "displayName": "Old Name"}

    renamed = client.put(
        f"{API}/users/me", json={"displayName": "  New \t Name  "}, headers=me.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {"id": me.id, "username": me.username, "displayName": "New Name"}
    # Others see the new name too.
    seen = client.get(f"{API}/users/{me.id}", headers=other.headers).json()
    assert seen["displayName"] == "New Name"


@pytest.mark.parametrize(
    "body",
    [
        {"displayName": ""},
        {"displayName": "   "},
        {"displayName": "\u200b\u200d"},
        {"displayName": "n" * 65},
        {"displayName": 123},
        {"displayName": None},
        {},
        {"displayName": "Fine", "username": "hijack"},
    ],
    ids=["empty", "blank", "invisible", "too-long", "int", "null", "missing", "extra-field"],
)
def test_rename_to_an_invalid_name_is_400_and_keeps_the_old_one(client, body):
    me = register(client, "keeper", "Keeper")
    response = client.put(f"{API}/users/me", json=body, headers=me.headers)
    assert_error(response, 400, "invalid_input")
    assert client.get(f"{API}/users/me", headers=me.headers).json() == me.user


def test_contacts_are_the_people_you_chat_with(client):
    alice, bob, carol = (
        register(client, "alice"),
        register(client, "bob"),
        register(client, "carol"),
    )
    stranger = register(client, "stranger")
    with_bob = open_chat(client, alice, bob)
    send(client, alice, with_bob, "hi bob")
    with_carol = open_chat(client, alice, carol)
    send(client, alice, with_carol, "hi carol")

    def contacts(account: Account) -> list[str]:
        response = client.get(f"{API}/users/me/contacts", headers=account.headers)
        assert response.status_code == 200
        return [u["id"] for u in response.json()["users"]]

    assert contacts(alice) == [carol.id, bob.id]  # most recent first
    assert contacts(bob) == [alice.id]
    assert contacts(stranger) == []


def test_get_user_by_id_and_unknown_ids_are_404(client):
    me, other = register(client, "asker"), register(client, "asked", "Asked Person")
    response = client.get(f"{API}/users/{other.id}", headers=me.headers)
    assert response.status_code == 200
    assert response.json() == other.user

    for unknown in (str(uuid.uuid4()), "not-a-user-id", other.id.upper()):
        assert_error(client.get(f"{API}/users/{unknown}", headers=me.headers), 404, "not_found")
