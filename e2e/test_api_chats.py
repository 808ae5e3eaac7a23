"""The public REST API, chats and messages, authorization, and the API as a whole."""

from __future__ import annotations

import uuid

import pytest

from e2e.api_helpers import (
    API,
    CAMEL,
    NOT_MEMBER,
    Account,
    assert_error,
    history,
    open_chat,
    register,
    send,
    text,
)

# --- chats ----------------------------------------------------------------------------------


def test_opening_the_same_direct_chat_twice_gives_the_same_chat(client):
    alice, bob = register(client, "alice", "Alice"), register(client, "bob", "Bob")
    first = client.post(f"{API}/chats", json={"participantIds": [bob.id]}, headers=alice.headers)
    assert first.status_code == 201, first.text
    chat = first.json()
    assert chat["type"] == "direct"
    assert chat["title"] == "Bob"
    assert chat["unreadCount"] == 0
    assert chat["lastMessage"] is None
    assert {p["id"] for p in chat["participants"]} == {alice.id, bob.id}

    again = client.post(f"{API}/chats", json={"participantIds": [bob.id]}, headers=alice.headers)
    assert again.status_code in (200, 201)
    assert again.json()["chatId"] == chat["chatId"]
    # ... from the other side as well.
    assert open_chat(client, bob, alice) == chat["chatId"]
    listed = client.get(f"{API}/chats", headers=alice.headers).json()["chats"]
    assert [c["chatId"] for c in listed] == [chat["chatId"]]


def test_refused_chat_creations_say_why_and_create_nothing(client):
    me, peer = register(client, "opener"), register(client, "peer")
    cases = [
        ({"participantIds": [me.id]}, 400, "invalid_input"),
        ({"participantIds": [str(uuid.uuid4())]}, 404, "not_found"),
        ({"participantIds": ["not-a-user"]}, 404, "not_found"),
        ({"participantIds": [peer.id], "groupName": " "}, 400, "invalid_input"),
        ({"participantIds": [peer.id, str(uuid.uuid4())]}, 400, "invalid_input"),
        ({"participantIds": []}, 400, "invalid_input"),
        ({"participantIds": peer.id}, 400, "invalid_input"),
        ({"participantIds": [peer.id], "kind": "direct"}, 400, "invalid_input"),
    ]
    for body, status, code in cases:
        response = client.post(f"{API}/chats", json=body, headers=me.headers)
        assert_error(response, status, code)
    assert client.get(f"{API}/chats", headers=me.headers).json()["chats"] == []
    assert client.get(f"{API}/chats", headers=peer.headers).json()["chats"] == []


def test_chat_list_is_most_recent_first_with_unread_counts_and_last_message(client):
    alice, bob, carol = (
        register(client, "alice", "Alice"),
        register(client, "bob", "Bob"),
        register(client, "carol", "Carol"),
    )
    with_bob = open_chat(client, alice, bob)
    with_carol = open_chat(client, alice, carol)
    # A chat opened with you that nobody wrote in is not in your list yet.
    assert client.get(f"{API}/chats", headers=bob.headers).json()["chats"] == []

    send(client, alice, with_bob, "first to bob")
    send(client, alice, with_carol, "to carol")
    last = send(client, alice, with_bob, "second  to\nbob")

    response = client.get(f"{API}/chats", headers=alice.headers)
    assert response.status_code == 200
    chats = response.json()["chats"]
    assert [c["chatId"] for c in chats] == [with_bob, with_carol]
    assert [c["title"] for c in chats] == ["Bob", "Carol"]
    assert [c["unreadCount"] for c in chats] == [0, 0]  # your own messages are not unread
    assert chats[0]["lastMessage"] == {
        "messageId": last["messageId"],
        "senderId": alice.id,
        "preview": "second to bob",
        "timestamp": last["timestamp"],
    }
    assert chats[0]["lastActivity"] == last["timestamp"]

    bobs = client.get(f"{API}/chats", headers=bob.headers).json()["chats"]
    assert [(c["chatId"], c["title"], c["unreadCount"]) for c in bobs] == [(with_bob, "Alice", 2)]
    carols = client.get(f"{API}/chats", headers=carol.headers).json()["chats"]
    assert [(c["chatId"], c["unreadCount"]) for c in carols] == [(with_carol, 1)]


def test_get_one_chat_with_its_participants_from_either_side(client):
    alice, bob = register(client, "alice", "Alice"), register(client, "bob", "Bob")
    chat_id = open_chat(client, alice, bob)
    sent = send(client, alice, chat_id, "hello")

    for viewer, title, unread in ((alice, "Bob", 0), (bob, "Alice", 1)):
        response = client.get(f"{API}/chats/{chat_id}", headers=viewer.headers)
        assert response.status_code == 200
        chat = response.json()
        assert chat["chatId"] == chat_id
        assert chat["title"] == title
        assert chat["unreadCount"] == unread
        assert chat["lastMessage"]["messageId"] == sent["messageId"]
        assert sorted(chat["participants"], key=lambda u: u["id"]) == sorted(
            [alice.user, bob.user], key=lambda u: u["id"]
        )


# --- messages -------------------------------------------------------------------------------


def test_send_a_message_is_201_and_in_both_histories(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    response = client.post(
        f"{API}/chats/{chat_id}/messages",
        json={"tempId": "tmp-1", "content": text("  Hello, Bob!  ")},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["chatId"] == chat_id
    assert message["senderId"] == alice.id
    assert message["content"] == {"type": "text", "text": "Hello, Bob!"}
    assert message["tempId"] == "tmp-1"
    assert message["status"] == "sent"
    assert set(message) == {
        "messageId",
        "chatId",
        "senderId",
        "content",
        "timestamp",
        "tempId",
        "status",
        "replyTo",
        "quote",
        "forwarded",
        "editedAt",
        "deleted",
        "reactions",
    }

    assert history(client, alice, chat_id) == [message]
    # The recipient sees the message, without the sender's own bookkeeping.
    [seen] = history(client, bob, chat_id)
    assert seen["messageId"] == message["messageId"]
    assert seen["content"] == message["content"]
    assert seen["tempId"] is None
    assert seen["status"] is None


def test_resending_with_the_same_temp_id_stores_one_message(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    first = send(client, alice, chat_id, "only once", temp_id="same-temp")
    again = send(client, alice, chat_id, "only once", temp_id="same-temp")
    assert again["messageId"] == first["messageId"]
    assert again["timestamp"] == first["timestamp"]

    assert [m["messageId"] for m in history(client, alice, chat_id)] == [first["messageId"]]
    assert [m["messageId"] for m in history(client, bob, chat_id)] == [first["messageId"]]
    bobs = client.get(f"{API}/chats", headers=bob.headers).json()["chats"]
    assert bobs[0]["unreadCount"] == 1

    # A different tempId is a different message.
    other = send(client, alice, chat_id, "only once", temp_id="other-temp")
    assert other["messageId"] != first["messageId"]
    assert len(history(client, alice, chat_id)) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"content": text("")},
        {"content": text("  \n\t ")},
        {"content": {"type": "sticker", "stickerId": "cat"}},
        {"content": {"type": "text"}},
        {"content": {"type": "text", "text": 42}},
        {"content": {"text": "no type"}},
        {"content": "just a string"},
        {"content": None},
        {"tempId": "t"},
        {"content": text("x"), "tempId": "t" * 65},
        {"content": text("x"), "tempId": 7},
        {"content": text("x"), "priority": "high"},
    ],
    ids=[
        "empty",
        "blank",
        "unknown-type",
        "no-text",
        "int-text",
        "no-type",
        "str-content",
        "null-content",
        "no-content",
        "long-temp-id",
        "int-temp-id",
        "extra-field",
    ],
)
def test_invalid_messages_are_400_and_store_nothing(client, body):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    response = client.post(f"{API}/chats/{chat_id}/messages", json=body, headers=alice.headers)
    assert_error(response, 400, "invalid_input")
    assert history(client, alice, chat_id) == []
    assert client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json()["lastMessage"] is None


def test_messages_over_64_kib_of_utf8_are_413_too_large(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    limit = 64 * 1024

    for oversized in ("a" * (limit + 1), "é" * (limit // 2 + 1), "😀" * (limit // 4 + 1)):
        assert len(oversized) <= limit + 1  # bytes, not characters, are what counts
        response = client.post(
            f"{API}/chats/{chat_id}/messages",
            json={"tempId": "big", "content": text(oversized)},
            headers=alice.headers,
        )
        assert_error(response, 413, "too_large")
    assert history(client, alice, chat_id) == []

    # Exactly at the limit is fine.
    fits = send(client, alice, chat_id, "é" * (limit // 2))
    assert fits["content"]["text"] == "é" * (limit // 2)
    assert [m["messageId"] for m in history(client, bob, chat_id)] == [fits["messageId"]]


@pytest.fixture(scope="module")
def long_chat(client) -> tuple[Account, str, list[str]]:
    """A chat with 120 messages, and their ids in the order they were sent."""
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    ids = [send(client, alice, chat_id, f"message {i}")["messageId"] for i in range(120)]
    return bob, chat_id, ids


def test_history_pages_backwards_with_a_cursor_exactly_once_in_order(client, long_chat):
    reader, chat_id, ids = long_chat
    pages: list[list[dict]] = []
    cursor = None
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        response = client.get(
            f"{API}/chats/{chat_id}/messages", params=params, headers=reader.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"messages", "nextCursor", "hasMore"}
        pages.append(page["messages"])
        if not page["hasMore"]:
            assert page["nextCursor"] is None
            break
        assert page["nextCursor"] == page["messages"][0]["messageId"]
        cursor = page["nextCursor"]
        assert len(pages) < 10, "paging does not end"

    assert [len(p) for p in pages] == [50, 50, 20]
    walked = [m["messageId"] for page in reversed(pages) for m in page]
    assert walked == ids  # every message exactly once, oldest first
    assert [m["content"]["text"] for m in pages[0][-2:]] == ["message 118", "message 119"]


def test_history_pages_forwards_with_direction_after(client, long_chat):
    reader, chat_id, ids = long_chat
    walked: list[str] = []
    sizes = []
    cursor = ""
    while True:
        response = client.get(
            f"{API}/chats/{chat_id}/messages",
            params={"limit": 50, "cursor": cursor, "direction": "after"},
            headers=reader.headers,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        sizes.append(len(page["messages"]))
        walked += [m["messageId"] for m in page["messages"]]
        if not page["hasMore"]:
            assert page["nextCursor"] is None
            break
        assert page["nextCursor"] == page["messages"][-1]["messageId"]
        cursor = page["nextCursor"]
        assert len(sizes) < 10, "paging does not end"
    assert sizes == [50, 50, 20]
    assert walked == ids

    # What a client that reconnects asks for: everything after the last id it holds.
    missed = client.get(
        f"{API}/chats/{chat_id}/messages",
        params={"cursor": ids[109], "direction": "after"},
        headers=reader.headers,
    ).json()
    assert [m["messageId"] for m in missed["messages"]] == ids[110:]
    assert missed["hasMore"] is False
    nothing = client.get(
        f"{API}/chats/{chat_id}/messages",
        params={"cursor": ids[-1], "direction": "after"},
        headers=reader.headers,
    ).json()
    assert nothing == {"messages": [], "nextCursor": None, "hasMore": False}


def test_history_defaults_to_the_newest_page(client, long_chat):
    reader, chat_id, ids = long_chat
    page = client.get(f"{API}/chats/{chat_id}/messages", headers=reader.headers).json()
    assert [m["messageId"] for m in page["messages"]] == ids[-50:]
    assert page["hasMore"] is True
    one = client.get(
        f"{API}/chats/{chat_id}/messages", params={"limit": 1}, headers=reader.headers
    ).json()
    assert [m["messageId"] for m in one["messages"]] == ids[-1:]
    full = client.get(
        f"{API}/chats/{chat_id}/messages", params={"limit": 100}, headers=reader.headers
    ).json()
    assert [m["messageId"] for m in full["messages"]] == ids[-100:]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": -5},
        {"limit": "ten"},
        {"direction": "sideways"},
        {"cursor": "c" * 65},
    ],
    ids=["limit-0", "limit-101", "limit-negative", "limit-text", "direction", "long-cursor"],
)
def test_history_with_bad_parameters_is_400(client, params):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    send(client, alice, chat_id, "there is history")
    response = client.get(f"{API}/chats/{chat_id}/messages", params=params, headers=bob.headers)
    assert_error(response, 400, "invalid_input")


# --- authorization --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "params", "body"),
    [
        ("GET", "", None, None),
        ("GET", "/messages", None, None),
        ("GET", "/messages", {"direction": "after"}, None),
        ("GET", "/messages", {"direction": "before", "cursor": "ffffffff", "limit": 5}, None),
        ("POST", "/messages", None, {"tempId": "intrude", "content": text("let me in")}),
        ("POST", "/messages", None, {"tempId": "", "content": text("")}),
    ],
    ids=["get-chat", "get-messages", "get-after", "get-before", "post-message", "post-empty"],
)
def test_a_non_member_gets_the_same_404_as_for_a_chat_that_does_not_exist(
    client, method, suffix, params, body
):
    alice, bob, mallory = (
        register(client, "alice"),
        register(client, "bob"),
        register(client, "mal"),
    )
    chat_id = open_chat(client, alice, bob)
    secret = send(client, alice, chat_id, "our secret")
    before = client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json()

    answers = []
    for target in (chat_id, str(uuid.uuid4()), "not-a-chat-id", chat_id.upper()):
        response = client.request(
            method,
            f"{API}/chats/{target}{suffix}",
            params=params,
            json=body,
            headers=mallory.headers,
        )
        answers.append((response.status_code, response.json()))
        assert "our secret" not in response.text

    assert answers[0] == (404, NOT_MEMBER)
    assert all(answer == answers[0] for answer in answers), answers
    # Nothing was stored or changed: the members' view is exactly as before.
    assert [m["messageId"] for m in history(client, alice, chat_id)] == [secret["messageId"]]
    assert client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json() == before
    assert client.get(f"{API}/chats", headers=mallory.headers).json()["chats"] == []


# --- the API as a whole ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [f"{API}/nope", f"{API}", f"{API}/chats/a/b/c", f"{API}/messages/x"]
)
def test_unknown_api_routes_are_404_with_code_and_message(client, path):
    account = register(client, "lost")
    response = client.get(path, headers=account.headers)
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", f"{API}/chats"), ("GET", f"{API}/auth/login"), ("PATCH", f"{API}/users/me")],
)
def test_a_wrong_method_on_an_api_route_is_a_json_error(client, method, path):
    account = register(client, "method")
    response = client.request(method, path, headers=account.headers)
    # 405 is the conventional answer, 404 acceptable; either way the API's error body.
    code = {404: "not_found", 405: "method_not_allowed"}.get(response.status_code, "")
    assert_error(response, response.status_code, code)
    assert response.status_code in (404, 405)
    assert client.get(f"{API}/users/me", headers=account.headers).json() == account.user


EXPECTED_ROUTES = {
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/users/me"),
    ("put", "/api/v1/users/me"),
    ("get", "/api/v1/users/me/contacts"),
    ("get", "/api/v1/users/{userId}"),
    ("get", "/api/v1/chats"),
    ("post", "/api/v1/chats"),
    ("get", "/api/v1/chats/{chatId}"),
    ("get", "/api/v1/chats/{chatId}/messages"),
    ("post", "/api/v1/chats/{chatId}/messages"),
    # groups
    ("get", "/api/v1/chats/{chatId}/members"),
    ("post", "/api/v1/chats/{chatId}/members"),
    ("delete", "/api/v1/chats/{chatId}/members/{userId}"),
    ("patch", "/api/v1/chats/{chatId}"),
    ("put", "/api/v1/chats/{chatId}/members/{userId}/role"),
    ("get", "/api/v1/chats/{chatId}/messages/{messageId}/info"),
    ("post", "/api/v1/media/upload"),
    ("get", "/api/v1/media/{mediaId}"),
    ("get", "/api/v1/media/{mediaId}/{variant}"),
    ("delete", "/api/v1/media/{mediaId}"),
    ("delete", "/api/v1/media/uploads/{tempId}"),
    ("get", "/api/v1/media/usage"),
    ("get", "/api/v1/chats/{chatId}/media"),
    # message actions and search (issue #7)
    ("delete", "/api/v1/messages/{messageId}"),
    ("patch", "/api/v1/messages/{messageId}"),
    ("put", "/api/v1/messages/{messageId}/reactions"),
    ("delete", "/api/v1/messages/{messageId}/reactions"),
    ("put", "/api/v1/messages/{messageId}/star"),
    ("delete", "/api/v1/messages/{messageId}/star"),
    ("get", "/api/v1/users/me/starred"),
    ("post", "/api/v1/messages/{messageId}/forward"),
    ("get", "/api/v1/search"),
}


@pytest.fixture(scope="module")
def openapi(client) -> dict:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


def test_openapi_lists_every_route_with_its_security(openapi):
    assert openapi["openapi"].startswith("3.")
    operations = {
        (method, path): op for path, ops in openapi["paths"].items() for method, op in ops.items()
    }
    assert set(operations) == EXPECTED_ROUTES
    assert "/ws" not in openapi["paths"]  # the socket is described in words, not as a route
    public = {("post", "/api/v1/auth/register"), ("post", "/api/v1/auth/login")}
    for key, op in operations.items():
        secured = bool(op.get("security"))
        assert secured is (key not in public), key
    schemes = openapi["components"]["securitySchemes"]
    assert [s["scheme"].lower() for s in schemes.values()] == ["bearer"]
    # Success statuses are the ones the routes answer with.
    assert "201" in operations[("post", "/api/v1/auth/register")]["responses"]
    assert "201" in operations[("post", "/api/v1/chats/{chatId}/messages")]["responses"]
    assert "204" in operations[("post", "/api/v1/auth/logout")]["responses"]


def test_openapi_uses_camel_case_names_everywhere(openapi):
    names: list[str] = []
    for schema in openapi["components"]["schemas"].values():
        names += list(schema.get("properties", {}))
    for ops in openapi["paths"].values():
        for op in ops.values():
            names += [p["name"] for p in op.get("parameters", [])]
    assert {"displayName", "chatId", "messageId", "tempId", "unreadCount"} <= set(names)
    assert {"nextCursor", "hasMore", "participantIds", "lastMessage"} <= set(names)
    assert [n for n in names if not CAMEL.match(n)] == []
    register_body = openapi["paths"]["/api/v1/auth/register"]["post"]["requestBody"]
    ref = register_body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(openapi["components"]["schemas"][ref]["properties"]) == {
        "username",
        "displayName",
        "password",
    }


def test_openapi_documents_the_error_body_every_error_has(openapi):
    error_ref = "#/components/schemas/ErrorBody"
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            for status in ("400", "401", "404"):
                content = op["responses"][status]["content"]["application/json"]
                assert content["schema"]["$ref"] == error_ref, (method, path, status)


def test_openapi_does_not_promise_a_422_the_api_never_sends(client, openapi):
    # The API really answers bad input with 400 ...
    response = client.post(f"{API}/auth/register", json={"username": 5})
    assert_error(response, 400, "invalid_input")
    # ... so a generated client must not be told to expect a 422 with another body.
    promised = [
        (method, path)
        for path, ops in openapi["paths"].items()
        for method, op in ops.items()
        if "422" in op["responses"]
    ]
    assert promised == []


def test_text_that_is_not_valid_unicode_is_bad_input_not_a_crash(client):
    alice, bob = register(client, "surrogate"), register(client, "surrogateb")
    chat_id = open_chat(client, alice, bob)
    body = '{"tempId": "s-1", "content": {"type": "text", "text": "\\ud800"}}'
    response = client.post(
        f"{API}/chats/{chat_id}/messages",
        content=body,
        headers={**alice.headers, "content-type": "application/json"},
    )
    assert_error(response, 400, "invalid_input")
    assert history(client, alice, chat_id) == []
