"""Message actions and search over the public API of the running app: replies, reactions,
edits, deletes, stars, forwards and search, with what each member's socket sees."""

from __future__ import annotations

import uuid

import pytest

from e2e.api_helpers import (
    API,
    Account,
    assert_error,
    history,
    open_chat,
    register,
    send,
    send_frame,
    socket,
    text,
    wait_for,
)

GONE = "This message doesn't exist or you can't see it."


@pytest.fixture
def pair(client) -> tuple[Account, Account, str]:
    alice, bob = register(client, "alice", "Alice"), register(client, "bob", "Bob")
    return alice, bob, open_chat(client, alice, bob)


def message_in(client, who: Account, chat_id: str, message_id: str) -> dict:
    return next(m for m in history(client, who, chat_id) if m["messageId"] == message_id)


def search(client, who: Account, **params) -> list[dict]:
    response = client.get(f"{API}/search", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


# --- replies --------------------------------------------------------------------------------


def test_a_reply_over_rest_and_over_the_socket_carries_the_quote(client, base_url, pair):
    alice, bob, chat_id = pair
    original = send(client, alice, chat_id, "Dinner at 8?")

    response = client.post(
        f"{API}/chats/{chat_id}/messages",
        json={"tempId": "r-1", "content": text("Yes"), "replyTo": original["messageId"]},
        headers=bob.headers,
    )
    assert response.status_code == 201, response.text
    quote = {
        "messageId": original["messageId"],
        "senderId": alice.id,
        "preview": "Dinner at 8?",
        "deleted": False,
    }
    assert response.json()["replyTo"] == original["messageId"]
    assert response.json()["quote"] == quote
    assert message_in(client, alice, chat_id, response.json()["messageId"])["quote"] == quote

    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        send_frame(
            wb,
            {
                "type": "message",
                "chatId": chat_id,
                "tempId": "r-2",
                "content": text("Or 9"),
                "replyTo": original["messageId"],
            },
        )
        wait_for(wb, "message_ack", lambda f: f["tempId"] == "r-2")
        frame = wait_for(wa, "message", lambda f: f["content"]["text"] == "Or 9")
        assert frame["replyTo"] == original["messageId"] and frame["quote"] == quote


def test_a_reply_to_a_message_of_another_chat_is_refused(client, pair):
    alice, bob, chat_id = pair
    carol = register(client, "carol")
    elsewhere = send(client, alice, open_chat(client, alice, carol), "for carol")
    response = client.post(
        f"{API}/chats/{chat_id}/messages",
        json={"content": text("re"), "replyTo": elsewhere["messageId"]},
        headers=bob.headers,
    )
    assert_error(response, 400, "invalid_input")
    assert history(client, bob, chat_id) == []


# --- reactions ------------------------------------------------------------------------------


def test_reactions_are_set_replaced_removed_and_pushed_to_both_members(client, base_url, pair):
    alice, bob, chat_id = pair
    m = send(client, alice, chat_id, "we won")
    url = f"{API}/messages/{m['messageId']}/reactions"

    with socket(base_url, alice.token) as wa:
        response = client.put(url, json={"emoji": "heart"}, headers=bob.headers)
        assert response.status_code == 200, response.text
        assert response.json()["reactions"] == [{"emoji": "❤️", "userIds": [bob.id]}]
        frame = wait_for(wa, "message_updated", lambda f: f["messageId"] == m["messageId"])
        assert frame["reactions"] == [{"emoji": "❤️", "userIds": [bob.id]}]
        assert frame["deleted"] is False and frame["editedAt"] is None

        replaced = client.put(url, json={"emoji": "🎉"}, headers=bob.headers).json()
        assert replaced["reactions"] == [{"emoji": "🎉", "userIds": [bob.id]}]
        wait_for(wa, "message_updated", lambda f: f["reactions"][0]["emoji"] == "🎉")

        removed = client.delete(url, headers=bob.headers)
        assert removed.status_code == 200 and removed.json()["reactions"] == []
        wait_for(wa, "message_updated", lambda f: f["reactions"] == [])
    assert message_in(client, alice, chat_id, m["messageId"])["reactions"] == []

    for bad in ("no", "👍👍", "<img>"):
        assert_error(
            client.put(url, json={"emoji": bad}, headers=bob.headers), 400, "invalid_input"
        )


def test_outsiders_get_404_for_every_message_action_and_learn_nothing(client, pair):
    alice, bob, chat_id = pair
    m = send(client, alice, chat_id, "private")
    carol = register(client, "carol")
    carols_chat = open_chat(client, carol, alice)
    mid = m["messageId"]
    for message_id in (mid, str(uuid.uuid4()), "nonsense"):
        base = f"{API}/messages/{message_id}"
        attempts = [
            client.put(f"{base}/reactions", json={"emoji": "heart"}, headers=carol.headers),
            client.delete(f"{base}/reactions", headers=carol.headers),
            client.put(f"{base}/star", headers=carol.headers),
            client.patch(base, json={"content": text("mine now")}, headers=carol.headers),
            client.delete(base, headers=carol.headers),
            client.delete(base, params={"scope": "me"}, headers=carol.headers),
            client.post(f"{base}/forward", json={"chatIds": [carols_chat]}, headers=carol.headers),
        ]
        for response in attempts:
            assert assert_error(response, 404, "not_found")["message"] == GONE
    assert message_in(client, bob, chat_id, mid) == message_in(client, bob, chat_id, mid)
    assert message_in(client, bob, chat_id, mid)["content"] == text("private")
    assert history(client, carol, carols_chat) == []


# --- edit and delete ------------------------------------------------------------------------


def test_the_sender_edits_and_the_other_member_sees_it_live(client, base_url, pair):
    alice, bob, chat_id = pair
    m = send(client, alice, chat_id, "teh plan")
    url = f"{API}/messages/{m['messageId']}"

    with socket(base_url, bob.token) as wb:
        response = client.patch(url, json={"content": text("the plan")}, headers=alice.headers)
        assert response.status_code == 200, response.text
        assert response.json()["content"] == text("the plan")
        assert response.json()["editedAt"] is not None
        frame = wait_for(wb, "message_updated", lambda f: f["messageId"] == m["messageId"])
        assert frame["content"] == text("the plan") and frame["editedAt"]

    assert_error(
        client.patch(url, json={"content": text("bob")}, headers=bob.headers), 403, "forbidden"
    )
    assert_error(
        client.patch(url, json={"content": text(" ")}, headers=alice.headers), 400, "invalid_input"
    )
    assert_error(client.patch(url, json={"text": "x"}, headers=alice.headers), 400, "invalid_input")
    assert message_in(client, bob, chat_id, m["messageId"])["content"] == text("the plan")


def test_delete_for_everyone_leaves_a_tombstone_live_and_twice_is_fine(client, base_url, pair):
    alice, bob, chat_id = pair
    m = send(client, alice, chat_id, "wrong window entirely")
    url = f"{API}/messages/{m['messageId']}"
    assert_error(client.delete(url, headers=bob.headers), 403, "forbidden")

    with socket(base_url, bob.token) as wb:
        assert client.delete(url, headers=alice.headers).status_code == 204
        frame = wait_for(wb, "message_updated", lambda f: f["messageId"] == m["messageId"])
        assert frame["deleted"] is True and frame["content"] == {"type": "deleted"}
    assert client.delete(url, headers=alice.headers).status_code == 204  # a no-op

    for who in (alice, bob):
        seen = message_in(client, who, chat_id, m["messageId"])
        assert seen["deleted"] is True and seen["content"] == {"type": "deleted"}
        assert search(client, who, q="window") == []


def test_delete_for_me_hides_it_from_me_only(client, base_url, pair):
    alice, bob, chat_id = pair
    m = send(client, alice, chat_id, "between us")
    url = f"{API}/messages/{m['messageId']}"

    with socket(base_url, bob.token) as wb:
        assert client.delete(url, params={"scope": "me"}, headers=bob.headers).status_code == 204
        frame = wait_for(wb, "message_hidden")
        assert frame == {"type": "message_hidden", "chatId": chat_id, "messageId": m["messageId"]}
    assert history(client, bob, chat_id) == []
    assert [x["messageId"] for x in history(client, alice, chat_id)] == [m["messageId"]]
    assert search(client, bob, q="between") == []
    assert len(search(client, alice, q="between")) == 1
    assert_error(
        client.delete(url, params={"scope": "all"}, headers=alice.headers), 400, "invalid_input"
    )


# --- stars and forwarding -------------------------------------------------------------------


def test_starring_and_the_starred_list_across_chats(client, pair):
    alice, bob, chat_id = pair
    carol = register(client, "carol")
    other = open_chat(client, alice, carol)
    first = send(client, bob, chat_id, "recipe")
    second = send(client, carol, other, "address")
    for m in (first, second):
        assert (
            client.put(f"{API}/messages/{m['messageId']}/star", headers=alice.headers).status_code
            == 204
        )

    starred = client.get(f"{API}/users/me/starred", headers=alice.headers).json()
    assert [m["messageId"] for m in starred["messages"]] == [
        second["messageId"],
        first["messageId"],
    ]
    assert starred["nextCursor"] is None
    assert client.get(f"{API}/users/me/starred", headers=bob.headers).json()["messages"] == []

    page = client.get(f"{API}/users/me/starred", params={"limit": 1}, headers=alice.headers).json()
    assert [m["messageId"] for m in page["messages"]] == [second["messageId"]]
    rest = client.get(
        f"{API}/users/me/starred", params={"cursor": page["nextCursor"]}, headers=alice.headers
    ).json()
    assert [m["messageId"] for m in rest["messages"]] == [first["messageId"]]

    assert (
        client.delete(
            f"{API}/messages/{second['messageId']}/star", headers=alice.headers
        ).status_code
        == 204
    )
    starred = client.get(f"{API}/users/me/starred", headers=alice.headers).json()
    assert [m["messageId"] for m in starred["messages"]] == [first["messageId"]]


def test_forward_to_two_chats_and_never_to_one_you_are_not_in(client, base_url, pair):
    alice, bob, chat_id = pair
    carol, dave = register(client, "carol"), register(client, "dave")
    to_carol, to_dave = open_chat(client, alice, carol), open_chat(client, alice, dave)
    not_mine = open_chat(client, carol, dave)
    m = send(client, bob, chat_id, "share this")
    url = f"{API}/messages/{m['messageId']}/forward"

    refused = client.post(url, json={"chatIds": [to_carol, not_mine]}, headers=alice.headers)
    assert_error(refused, 404, "not_found")
    assert history(client, carol, to_carol) == []
    too_many = [str(uuid.uuid4()) for _ in range(6)]
    assert_error(
        client.post(url, json={"chatIds": too_many}, headers=alice.headers), 400, "invalid_input"
    )
    assert_error(
        client.post(url, json={"chatIds": []}, headers=alice.headers), 400, "invalid_input"
    )

    with socket(base_url, carol.token) as wc:
        response = client.post(url, json={"chatIds": [to_carol, to_dave]}, headers=alice.headers)
        assert response.status_code == 201, response.text
        copies = response.json()["messages"]
        assert [c["chatId"] for c in copies] == [to_carol, to_dave]
        assert all(c["forwarded"] and c["content"] == text("share this") for c in copies)
        frame = wait_for(wc, "message", lambda f: f["chatId"] == to_carol)
        assert frame["forwarded"] is True and frame["senderId"] == alice.id
    assert [x["messageId"] for x in history(client, dave, to_dave)] == [copies[1]["messageId"]]


# --- search ---------------------------------------------------------------------------------


def test_search_finds_words_by_prefix_in_any_script_with_plain_snippets(client, pair):
    alice, bob, chat_id = pair
    tag = uuid.uuid4().hex[:10]  # the app's database is shared by every test
    send(client, alice, chat_id, f"{tag} <b>quarterly</b> report")
    send(client, bob, chat_id, f"{tag} Привет из Москвы")
    send(client, bob, chat_id, f"{tag} مرحبا بالعالم")

    [hit] = search(client, bob, q=f"{tag} quart")
    assert hit["chatId"] == chat_id and hit["senderId"] == alice.id and hit["type"] == "text"
    assert hit["timestamp"] and hit["messageId"]
    assert {"text": "quarterly", "match": True} in hit["snippet"]
    assert {"text": " <b>", "match": False} in hit["snippet"]  # markup is just text
    assert len(search(client, alice, q=f"{tag} моск")) == 1
    assert len(search(client, alice, q=f"{tag} مرحب")) == 1
    assert len(search(client, alice, q=tag, senderId=bob.id)) == 2
    assert len(search(client, alice, q=tag, chatId=chat_id, type="text")) == 3
    assert search(client, alice, q=tag, type="image") == []
    assert search(client, alice, q=tag, **{"from": "2100-01-01T00:00:00Z"}) == []
    assert len(search(client, alice, q=tag, to="2100-01-01")) == 3


def test_search_never_shows_other_peoples_chats(client, pair):
    alice, _bob, chat_id = pair
    tag = uuid.uuid4().hex[:10]
    send(client, alice, chat_id, f"{tag} secret")
    carol = register(client, "carol")

    assert search(client, carol, q=tag) == []
    response = client.get(
        f"{API}/search", params={"q": tag, "chatId": chat_id}, headers=carol.headers
    )
    assert_error(response, 404, "not_found")
    assert_error(
        client.get(f"{API}/search", params={"q": "!!"}, headers=carol.headers), 400, "invalid_input"
    )
    assert_error(client.get(f"{API}/search", headers=carol.headers), 400, "invalid_input")
    assert_error(client.get(f"{API}/search", params={"q": tag}), 401, "unauthenticated")
