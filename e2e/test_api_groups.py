"""Group chats over the public API: creating, members and roles, message info, and a removed
member's socket going quiet. Real HTTP and WebSocket clients against the running app."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from backend.container import Services
from e2e.api_helpers import (
    API,
    NOT_MEMBER,
    PASSWORD,
    Account,
    Frame,
    assert_error,
    frames_within,
    history,
    not_presence,
    ping,
    register,
    send,
    send_frame,
    socket,
    text,
    unique_username,
    wait_for,
)

QUIET = 0.7  # how long "nothing else arrives" is watched for
FULL = "A group can have at most 256 members."


def create_group(
    client: httpx.Client, owner: Account, members: list[Account], name: str = "Team"
) -> dict[str, Any]:
    response = client.post(
        f"{API}/chats",
        json={"groupName": name, "participantIds": [m.id for m in members]},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def members_of(client: httpx.Client, viewer: Account, chat_id: str) -> dict[str, str]:
    """username -> role, as ``viewer`` sees the group."""
    response = client.get(f"{API}/chats/{chat_id}/members", headers=viewer.headers)
    assert response.status_code == 200, response.text
    return {m["username"]: m["role"] for m in response.json()["members"]}


def system_events(client: httpx.Client, viewer: Account, chat_id: str) -> list[str]:
    return [
        m["content"]["event"]
        for m in history(client, viewer, chat_id)
        if m["content"]["type"] == "system"
    ]


@pytest.fixture
def team(client) -> tuple[Account, Account, Account, Account]:
    """Alice, Bob, Carol and Dave (each with a unique username)."""
    return (
        register(client, "alice", "Alice"),
        register(client, "bob", "Bob"),
        register(client, "carol", "Carol"),
        register(client, "dave", "Dave"),
    )


# --- creating -------------------------------------------------------------------------------


def test_creating_a_group_answers_the_chat_with_its_kind_size_and_first_line(client, team):
    alice, bob, carol, _ = team
    chat = create_group(client, alice, [bob, carol, bob], name="  Weekend \n trip ")

    assert chat["type"] == "group"
    assert chat["title"] == "Weekend trip"
    assert chat["memberCount"] == 3
    assert chat["isMember"] is True
    assert {p["id"] for p in chat["participants"]} == {alice.id, bob.id, carol.id}
    assert chat["lastMessage"]["preview"] == "Alice created the group"
    assert members_of(client, bob, chat["chatId"]) == {
        alice.username: "owner",
        bob.username: "member",
        carol.username: "member",
    }
    # Everyone has it in their list, and its first line is the system line.
    for who in (alice, bob, carol):
        listed = client.get(f"{API}/chats", headers=who.headers).json()["chats"]
        assert [(c["chatId"], c["type"], c["memberCount"]) for c in listed] == [
            (chat["chatId"], "group", 3)
        ]
    [line] = history(client, bob, chat["chatId"])
    assert line["senderId"] == alice.id
    assert line["content"] == {
        "type": "system",
        "event": "created",
        "actor": {"id": alice.id, "name": "Alice"},
        "targets": [],
        "title": "Weekend trip",
    }
    assert "status" not in line or line["status"] is None
    own = history(client, alice, chat["chatId"])[0]
    assert own["status"] is None  # no ticks on a system line, even for its actor


def test_refused_group_creations_say_why_and_create_nothing(client, team):
    alice, bob, _, _ = team
    cases = [
        ({"groupName": "", "participantIds": [bob.id]}, 400, "invalid_input"),
        ({"groupName": " \t ", "participantIds": [bob.id]}, 400, "invalid_input"),
        ({"groupName": "x" * 101, "participantIds": [bob.id]}, 400, "invalid_input"),
        ({"groupName": 7, "participantIds": [bob.id]}, 400, "invalid_input"),
        ({"groupName": "Team", "participantIds": []}, 400, "invalid_input"),
        ({"groupName": "Team", "participantIds": [bob.id, str(uuid.uuid4())]}, 404, "not_found"),
        ({"groupName": "Team", "participantIds": ["not-a-user"]}, 404, "not_found"),
        # 256 others and the caller are 257 people: refused before anyone is looked up.
        (
            {"groupName": "Crowd", "participantIds": [str(uuid.uuid4()) for _ in range(256)]},
            409,
            "group_full",
        ),
    ]
    for body, status, code in cases:
        response = client.post(f"{API}/chats", json=body, headers=alice.headers)
        error = assert_error(response, status, code)
        if code == "group_full":
            assert error["message"] == FULL
    assert client.get(f"{API}/chats", headers=alice.headers).json()["chats"] == []
    assert client.get(f"{API}/chats", headers=bob.headers).json()["chats"] == []


def test_the_257th_member_is_refused_with_409(client, app_services: Services):
    alice = register(client, "owner", "Owner")
    # 255 people stored straight through the app's own storage: signing them all up over HTTP
    # would test nothing more and take long.
    crowd = [
        app_services.accounts.register(unique_username("crowd"), "Crowd", PASSWORD)[0].id
        for _ in range(255)
    ]
    latecomer = register(client, "late", "Late")
    response = client.post(
        f"{API}/chats",
        json={"groupName": "Full house", "participantIds": crowd},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text
    chat = response.json()
    assert chat["memberCount"] == 256

    response = client.post(
        f"{API}/chats/{chat['chatId']}/members",
        json={"userIds": [latecomer.id]},
        headers=alice.headers,
    )
    assert assert_error(response, 409, "group_full")["message"] == FULL
    assert len(members_of(client, alice, chat["chatId"])) == 256
    assert client.get(f"{API}/chats", headers=latecomer.headers).json()["chats"] == []


# --- members and roles ----------------------------------------------------------------------


def test_a_plain_member_gets_403_and_changes_nothing(client, team):
    alice, bob, carol, dave = team
    chat_id = create_group(client, alice, [bob, carol])["chatId"]
    before = client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json()
    attempts = [
        ("POST", "/members", {"userIds": [dave.id]}),
        ("DELETE", f"/members/{carol.id}", None),
        ("PATCH", "", {"title": "Bob's now"}),
        ("PUT", f"/members/{carol.id}/role", {"role": "admin"}),
        ("PUT", f"/members/{bob.id}/role", {"role": "admin"}),
    ]
    for method, suffix, body in attempts:
        response = client.request(
            method, f"{API}/chats/{chat_id}{suffix}", json=body, headers=bob.headers
        )
        assert_error(response, 403, "forbidden")
    assert client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json() == before
    assert members_of(client, alice, chat_id) == {
        alice.username: "owner",
        bob.username: "member",
        carol.username: "member",
    }
    assert system_events(client, alice, chat_id) == ["created"]


def test_an_admin_adds_renames_promotes_and_removes(client, team):
    alice, bob, carol, dave = team
    chat_id = create_group(client, alice, [bob, carol])["chatId"]

    response = client.put(
        f"{API}/chats/{chat_id}/members/{bob.id}/role",
        json={"role": "admin"},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    assert {m["username"]: m["role"] for m in response.json()["members"]}[bob.username] == "admin"

    response = client.post(
        f"{API}/chats/{chat_id}/members", json={"userIds": [dave.id]}, headers=bob.headers
    )
    assert response.status_code == 200, response.text
    assert dave.username in {m["username"] for m in response.json()["members"]}

    response = client.patch(
        f"{API}/chats/{chat_id}", json={"title": "Renamed"}, headers=bob.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Renamed"
    assert response.json()["memberCount"] == 4

    response = client.delete(f"{API}/chats/{chat_id}/members/{carol.id}", headers=bob.headers)
    assert response.status_code == 204, response.text
    assert response.content == b""

    assert members_of(client, dave, chat_id) == {
        alice.username: "owner",
        bob.username: "admin",
        dave.username: "member",
    }
    assert system_events(client, dave, chat_id) == ["added", "renamed", "removed"]
    assert system_events(client, carol, chat_id) == ["created", "added", "renamed", "removed"]
    # Dave, added later, sees nothing from before the line that added him.
    assert history(client, dave, chat_id)[0]["content"]["event"] == "added"


def test_bad_input_on_group_routes_is_400_and_the_owner_is_protected(client, team):
    alice, bob, carol, _ = team
    chat_id = create_group(client, alice, [bob, carol])["chatId"]
    client.put(
        f"{API}/chats/{chat_id}/members/{bob.id}/role",
        json={"role": "admin"},
        headers=alice.headers,
    ).raise_for_status()
    cases = [
        ("PUT", f"/members/{carol.id}/role", {"role": "owner"}, 400, "invalid_input"),
        ("PUT", f"/members/{carol.id}/role", {"role": "king"}, 400, "invalid_input"),
        ("PUT", f"/members/{carol.id}/role", {}, 400, "invalid_input"),
        ("PATCH", "", {"title": "   "}, 400, "invalid_input"),
        ("PATCH", "", {"title": None}, 400, "invalid_input"),
        ("PATCH", "", {"title": "ok", "kind": "group"}, 400, "invalid_input"),
        ("POST", "/members", {"userIds": []}, 400, "invalid_input"),
        ("POST", "/members", {"userIds": "not-a-list"}, 400, "invalid_input"),
        ("POST", "/members", {"userIds": [str(uuid.uuid4())]}, 404, "not_found"),
        ("DELETE", f"/members/{uuid.uuid4()}", None, 404, "not_found"),
        ("PUT", f"/members/{alice.id}/role", {"role": "member"}, 403, "forbidden"),
        ("DELETE", f"/members/{alice.id}", None, 403, "forbidden"),
    ]
    for method, suffix, body, status, code in cases:
        response = client.request(
            method, f"{API}/chats/{chat_id}{suffix}", json=body, headers=bob.headers
        )
        assert_error(response, status, code)
    malformed = client.patch(
        f"{API}/chats/{chat_id}",
        content=b"{not json",
        headers={**bob.headers, "Content-Type": "application/json"},
    )
    assert_error(malformed, 400, "invalid_json")
    assert members_of(client, alice, chat_id)[alice.username] == "owner"
    assert client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json()["title"] == "Team"
    assert system_events(client, alice, chat_id) == ["created"]


def test_group_routes_on_a_direct_chat_are_refused(client, team):
    alice, bob, carol, _ = team
    response = client.post(f"{API}/chats", json={"participantIds": [bob.id]}, headers=alice.headers)
    chat_id = response.json()["chatId"]
    assert response.json()["memberCount"] == 2
    for method, suffix, body in [
        ("PATCH", "", {"title": "Us"}),
        ("POST", "/members", {"userIds": [carol.id]}),
        ("DELETE", f"/members/{alice.id}", None),
    ]:
        response = client.request(
            method, f"{API}/chats/{chat_id}{suffix}", json=body, headers=alice.headers
        )
        assert response.status_code in (400, 403), response.text
    assert members_of(client, alice, chat_id) == {alice.username: "member", bob.username: "member"}


def test_leaving_is_deleting_yourself_and_the_owner_hands_the_group_on(client, team):
    alice, bob, carol, _ = team
    chat_id = create_group(client, alice, [bob, carol])["chatId"]
    send(client, bob, chat_id, "before carol left")

    response = client.delete(f"{API}/chats/{chat_id}/members/{carol.id}", headers=carol.headers)
    assert response.status_code == 204, response.text
    send(client, bob, chat_id, "after carol left")

    gone = client.get(f"{API}/chats/{chat_id}", headers=carol.headers).json()
    assert gone["isMember"] is False
    assert gone["lastMessage"]["preview"] == ""  # nothing that happened later leaks
    assert [
        m["content"].get("text") or m["content"]["event"] for m in history(client, carol, chat_id)
    ] == ["created", "before carol left", "left"]
    refused = client.post(
        f"{API}/chats/{chat_id}/messages",
        json={"tempId": "late", "content": text("can I?")},
        headers=carol.headers,
    )
    assert_error(refused, 404, "not_found")
    assert_error(
        client.delete(f"{API}/chats/{chat_id}/members/{carol.id}", headers=carol.headers),
        404,
        "not_found",
    )

    # The owner leaving hands the group to the longest-standing member.
    response = client.delete(f"{API}/chats/{chat_id}/members/{alice.id}", headers=alice.headers)
    assert response.status_code == 204, response.text
    assert members_of(client, bob, chat_id) == {bob.username: "owner"}


GROUP_ROUTES = [
    ("GET", "/members", None),
    ("POST", "/members", {"userIds": ["{mallory}"]}),
    ("DELETE", "/members/{bob}", None),
    ("DELETE", "/members/{mallory}", None),
    ("PATCH", "", {"title": "Mine"}),
    ("PUT", "/members/{mallory}/role", {"role": "admin"}),
    ("GET", "/messages/{message}/info", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), GROUP_ROUTES)
def test_an_outsider_gets_the_same_404_on_every_group_route_and_learns_nothing(
    client, team, method, suffix, body
):
    alice, bob, _, mallory = team
    chat_id = create_group(client, alice, [bob], name="Secret club")["chatId"]
    secret = send(client, alice, chat_id, "our secret")
    before = client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json()
    names = {"mallory": mallory.id, "bob": bob.id, "message": secret["messageId"]}

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(**names)
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    answers = []
    for target in (chat_id, str(uuid.uuid4()), "not-a-chat-id"):
        response = client.request(
            method,
            f"{API}/chats/{target}{fill(suffix)}",
            json=fill(body),
            headers=mallory.headers,
        )
        answers.append((response.status_code, response.json()))
        assert "Secret club" not in response.text and bob.username not in response.text
    assert answers[0] == (404, NOT_MEMBER)
    assert all(answer == answers[0] for answer in answers), answers
    assert client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json() == before
    assert client.get(f"{API}/chats", headers=mallory.headers).json()["chats"] == []


# --- message info ---------------------------------------------------------------------------


def info_of(client: httpx.Client, viewer: Account, chat_id: str, message_id: str) -> dict:
    response = client.get(
        f"{API}/chats/{chat_id}/messages/{message_id}/info", headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    return {r["user"]["username"]: r for r in response.json()["receipts"]}


def test_message_info_lists_who_received_and_read_a_message_and_when(client, base_url, team):
    alice, bob, carol, dave = team
    chat_id = create_group(client, alice, [bob, carol])["chatId"]
    with socket(base_url, bob.token) as bob_ws:
        sent = send(client, alice, chat_id, "who read this?")
        wait_for(bob_ws, "message", lambda f: f["messageId"] == sent["messageId"])
        send_frame(bob_ws, {"type": "read", "chatId": chat_id, "messageId": sent["messageId"]})
        ping(bob_ws)
    # Dave joins after the message was sent: it was never his to receive.
    client.post(
        f"{API}/chats/{chat_id}/members", json={"userIds": [dave.id]}, headers=alice.headers
    ).raise_for_status()

    deadline = time.monotonic() + 5
    while (info := info_of(client, alice, chat_id, sent["messageId"]))[bob.username][
        "readAt"
    ] is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set(info) == {bob.username, carol.username}  # not alice (asking), not dave
    bob_row, carol_row = info[bob.username], info[carol.username]
    assert bob_row["deliveredAt"] is not None and bob_row["readAt"] is not None
    moments = [sent["timestamp"], bob_row["deliveredAt"], bob_row["readAt"]]
    parsed = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in moments]
    assert parsed == sorted(parsed), moments
    assert carol_row == {
        "user": {"id": carol.id, "username": carol.username, "displayName": "Carol"},
        "deliveredAt": None,
        "readAt": None,
    }
    # Any member may ask; one who joined later, about an older message, learns nothing.
    assert set(info_of(client, carol, chat_id, sent["messageId"])) == {
        alice.username,
        bob.username,
    }
    for viewer, message_id in ((dave, sent["messageId"]), (alice, "not-a-message")):
        response = client.get(
            f"{API}/chats/{chat_id}/messages/{message_id}/info", headers=viewer.headers
        )
        assert_error(response, 404, "not_found")


# --- the socket of a removed member ---------------------------------------------------------


def messages_in(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f.get("type") == "message"]


def test_a_removed_members_socket_gets_no_new_messages(client, base_url, team):
    alice, bob, carol, dave = team
    chat_id = create_group(client, alice, [bob, carol])["chatId"]
    with socket(base_url, carol.token) as carol_ws, socket(base_url, bob.token) as bob_ws:
        before = send(client, alice, chat_id, "before")
        wait_for(carol_ws, "message", lambda f: f["messageId"] == before["messageId"])

        response = client.delete(f"{API}/chats/{chat_id}/members/{carol.id}", headers=alice.headers)
        assert response.status_code == 204
        # Carol's socket is told, with the system line (and the chat changed) ...
        line = wait_for(carol_ws, "message", lambda f: f["content"]["type"] == "system")
        assert line["content"]["event"] == "removed"
        assert [t["id"] for t in line["content"]["targets"]] == [carol.id]
        wait_for(carol_ws, "chat", lambda f: f["chatId"] == chat_id)

        # ... and then hears nothing the group says or does.
        after = send(client, alice, chat_id, "after carol was removed")
        send_frame(
            bob_ws,
            {"type": "message", "chatId": chat_id, "tempId": "b1", "content": text("bob too")},
        )
        send_frame(bob_ws, {"type": "typing", "chatId": chat_id, "isTyping": True})
        client.patch(
            f"{API}/chats/{chat_id}", json={"title": "No carol"}, headers=alice.headers
        ).raise_for_status()
        client.post(
            f"{API}/chats/{chat_id}/members", json={"userIds": [dave.id]}, headers=alice.headers
        ).raise_for_status()
        # Bob hears all of it, so it really happened while carol's socket was open.
        wait_for(bob_ws, "message", lambda f: f["messageId"] == after["messageId"])
        wait_for(bob_ws, "message_ack", lambda f: f["tempId"] == "b1")
        wait_for(bob_ws, "message", lambda f: f["content"].get("event") == "added")

        quiet = frames_within(carol_ws, QUIET)
        assert messages_in(quiet) == [], quiet
        # At most her own devices' receipt of the removal line, never anything later.
        about_group = [f for f in quiet if f.get("chatId") == chat_id]
        assert all(f["userId"] == carol.id for f in about_group), quiet
        assert all(
            f.get(key, "") <= line["messageId"]
            for f in about_group
            for key in ("messageId", "deliveredUpto", "lastReadMessageId", "chatReadUpto")
        ), quiet

        # Her socket still works, but writing to the group is refused.
        send_frame(
            carol_ws,
            {"type": "message", "chatId": chat_id, "tempId": "c1", "content": text("hello?")},
        )
        refused = wait_for(carol_ws, "error")
        assert (refused["code"], refused.get("tempId")) == ("not_found", "c1")
        assert messages_in(ping(carol_ws)) == []

    # She keeps what she received, up to the line that removed her.
    kept = [m["messageId"] for m in history(client, carol, chat_id)]
    assert kept[-2:] == [before["messageId"], line["messageId"]]


# --- group receipts over the socket ---------------------------------------------------------


def wait_until(check: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def own_status(client: httpx.Client, me: Account, chat_id: str, message_id: str) -> str:
    return next(m["status"] for m in history(client, me, chat_id) if m["messageId"] == message_id)


def test_a_group_message_fans_out_and_ticks_only_when_every_member_has_it(client, base_url, team):
    alice, bob, carol, _ = team
    chat_id = create_group(client, alice, [bob, carol])["chatId"]
    with (
        socket(base_url, alice.token) as alice_ws,
        socket(base_url, bob.token) as bob_ws,
    ):
        send_frame(
            alice_ws,
            {"type": "message", "chatId": chat_id, "tempId": "g1", "content": text("hi all")},
        )
        message_id = wait_for(alice_ws, "message_ack", lambda f: f["tempId"] == "g1")["messageId"]
        wait_for(bob_ws, "message", lambda f: f["messageId"] == message_id)
        # Bob's socket got it (and said so: message info shows it); carol has no device online,
        # so the group's ticks don't move and Alice is told nothing: one tick still.
        wait_until(lambda: info_of(client, alice, chat_id, message_id)[bob.username]["deliveredAt"])
        assert own_status(client, alice, chat_id, message_id) == "sent"
        assert [f for f in not_presence(ping(alice_ws)) if f["type"] == "delivered"] == []

        with socket(base_url, carol.token) as carol_ws:
            send_frame(carol_ws, {"type": "sync", "chatId": chat_id, "after": ""})
            wait_for(carol_ws, "message", lambda f: f["messageId"] == message_id)
            # Once carol's device has it too, every member has it: two ticks.
            wait_for(alice_ws, "delivered", lambda f: f["messageId"] == message_id)
            assert own_status(client, alice, chat_id, message_id) == "delivered"

            send_frame(bob_ws, {"type": "read", "chatId": chat_id, "messageId": message_id})
            wait_until(lambda: info_of(client, alice, chat_id, message_id)[bob.username]["readAt"])
            assert own_status(client, alice, chat_id, message_id) == "delivered"
            send_frame(carol_ws, {"type": "read", "chatId": chat_id, "messageId": message_id})
            wait_for(alice_ws, "read", lambda f: f["chatReadUpto"] == message_id)
            assert own_status(client, alice, chat_id, message_id) == "read"
