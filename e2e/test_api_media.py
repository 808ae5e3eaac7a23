"""The media API against the running app: uploads (raw and multipart), media messages, fetching
with a token or the browser's cookie, the refusals, and who may fetch what."""

from __future__ import annotations

import http.client
import io
import json
import uuid

import httpx
from PIL import Image

from e2e.api_helpers import (
    API,
    assert_error,
    history,
    open_chat,
    register,
    send_frame,
    socket,
    wait_for,
)
from tests import media_samples as samples


def upload(
    client: httpx.Client, who, chat_id: str, data: bytes, filename: str, **params: object
) -> httpx.Response:
    return client.post(
        f"{API}/media/upload",
        params={"chatId": chat_id, "filename": filename, **params},
        content=data,
        headers={**who.headers, "Content-Type": "application/octet-stream"},
    )


def test_a_photo_upload_is_sent_and_fetched_by_the_other_member(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)

    response = upload(client, alice, chat_id, samples.jpeg_with_location(800, 600), "p.jpg")

    assert response.status_code == 201, response.text
    photo = response.json()
    assert photo["kind"] == "image"
    assert (photo["width"], photo["height"]) == (800, 600)
    assert photo["thumbnailUrl"] == f"{API}/media/{photo['mediaId']}/thumbnail"
    sent = client.post(
        f"{API}/chats/{chat_id}/messages",
        json={"tempId": "t1", "content": {"type": "image", "mediaId": photo["mediaId"]}},
        headers=alice.headers,
    )
    assert sent.status_code == 201, sent.text

    [message] = history(client, bob, chat_id)
    assert message["content"]["type"] == "image"
    assert message["content"]["placeholder"].startswith("data:image/jpeg;base64,")
    thumb = client.get(photo["thumbnailUrl"], headers=bob.headers)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["x-content-type-options"] == "nosniff"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert image.size == (100, 100)
        assert not image.getexif()
    chats = client.get(f"{API}/chats", headers=bob.headers).json()["chats"]
    assert chats[0]["lastMessage"]["preview"] == "📷 Photo"


def test_a_document_uploaded_as_a_form_downloads_byte_for_byte(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    data = samples.pdf("Q3 figures")

    response = client.post(
        f"{API}/media/upload",
        params={"chatId": chat_id},
        files={"file": ("Q3 report.pdf", data, "image/png")},  # the client's type is ignored
        headers=alice.headers,
    )

    assert response.status_code == 201, response.text
    doc = response.json()
    assert (doc["kind"], doc["name"], doc["mime"], doc["size"]) == (
        "document",
        "Q3 report.pdf",
        "application/pdf",
        len(data),
    )
    got = client.get(doc["url"], headers=bob.headers)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "Q3%20report.pdf" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    # Ranges work (what lets a video or voice note seek).
    part = client.get(doc["url"], headers={**bob.headers, "Range": "bytes=0-7"})
    assert part.status_code == 206
    assert part.content == data[:8]


def test_the_browser_cookie_works_for_media_like_a_token(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    photo = upload(client, alice, chat_id, samples.jpeg_with_location(), "p.jpg").json()

    with_cookie = httpx.get(
        f"{client.base_url}{photo['thumbnailUrl']}", cookies={"chat_session": bob.token}
    )
    assert with_cookie.status_code == 200
    assert_error(httpx.get(f"{client.base_url}{photo['thumbnailUrl']}"), 401, "unauthenticated")
    assert_error(
        httpx.get(f"{client.base_url}{photo['url']}", cookies={"chat_session": "forged"}),
        401,
        "unauthenticated",
    )


def test_outsiders_get_404_for_media_and_cannot_upload_to_the_chat(client):
    alice, bob, carol = (register(client, n) for n in ("alice", "bob", "carol"))
    chat_id = open_chat(client, alice, bob)
    photo = upload(client, alice, chat_id, samples.jpeg_with_location(), "p.jpg").json()

    for path in (photo["url"], photo["thumbnailUrl"], f"{photo['url']}/preview"):
        assert_error(client.get(path, headers=carol.headers), 404, "not_found")
    assert_error(client.get(f"{API}/media/{uuid.uuid4()}", headers=carol.headers), 404, "not_found")
    assert_error(upload(client, carol, chat_id, samples.pdf(), "x.pdf"), 404, "not_found")
    # Nor can carol send alice's upload into a chat of her own.
    carol_chat = open_chat(client, carol, alice)
    sent = client.post(
        f"{API}/chats/{carol_chat}/messages",
        json={"content": {"type": "image", "mediaId": photo["mediaId"]}},
        headers=carol.headers,
    )
    assert_error(sent, 400, "invalid_input")


def test_disguised_files_are_refused_with_a_clear_message(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)

    for data, name in ((samples.HTML_PAGE, "cat.jpg"), (samples.SVG_IMAGE, "cat.jpg")):
        body = assert_error(upload(client, alice, chat_id, data, name), 400, "unsupported_media")
        assert "disguised" in body["message"]
    flood = upload(client, alice, chat_id, samples.pixel_flood_png(), "big.png")
    assert "too many pixels" in assert_error(flood, 413, "too_large")["message"]
    assert_error(upload(client, alice, chat_id, b"", "empty.txt"), 400, "invalid_input")


def test_an_upload_declaring_more_than_the_cap_is_refused_before_it_is_read(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)

    # Only the headers go out: the answer must come without the server waiting for the body.
    host, port = client.base_url.host, client.base_url.port
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("POST", f"{API}/media/upload?chatId={chat_id}&filename=huge.bin")
    connection.putheader("Authorization", f"Bearer {alice.token}")
    connection.putheader("Content-Type", "application/octet-stream")
    connection.putheader("Content-Length", str(200 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["code"] == "too_large"
    connection.close()


def test_the_chat_gallery_pages_through_sent_media_by_kind(client):
    alice, bob, carol = (register(client, n) for n in ("alice", "bob", "carol"))
    chat_id = open_chat(client, alice, bob)
    for name, data in (("a.jpg", samples.jpeg_with_location()), ("b.pdf", samples.pdf())):
        media = upload(client, alice, chat_id, data, name).json()
        sent = client.post(
            f"{API}/chats/{chat_id}/messages",
            json={"content": {"type": media["kind"], "mediaId": media["mediaId"]}},
            headers=alice.headers,
        )
        assert sent.status_code == 201, sent.text

    everything = client.get(f"{API}/chats/{chat_id}/media", headers=bob.headers)
    assert everything.status_code == 200, everything.text
    assert [m["name"] for m in everything.json()["media"]] == ["b.pdf", "a.jpg"]
    assert all(m["messageId"] for m in everything.json()["media"])
    photos = client.get(
        f"{API}/chats/{chat_id}/media", params={"kind": ["image", "video"]}, headers=bob.headers
    )
    assert [m["kind"] for m in photos.json()["media"]] == ["image"]
    first = client.get(f"{API}/chats/{chat_id}/media", params={"limit": 1}, headers=bob.headers)
    cursor = first.json()["nextCursor"]
    rest = client.get(
        f"{API}/chats/{chat_id}/media", params={"cursor": cursor}, headers=bob.headers
    ).json()
    assert [m["name"] for m in rest["media"]] == ["a.jpg"] and rest["nextCursor"] is None
    outsider = client.get(f"{API}/chats/{chat_id}/media", headers=carol.headers)
    assert_error(outsider, 404, "not_found")


def test_a_voice_note_sent_over_the_socket_reaches_the_partner_with_its_waveform(
    client, base_url, tmp_path
):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    voice = upload(client, alice, chat_id, samples.opus_voice(tmp_path, 4), "note.ogg").json()
    assert voice["kind"] == "voice"

    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        send_frame(
            wa,
            {
                "type": "message",
                "chatId": chat_id,
                "tempId": "voice-1",
                "content": {"type": "voice", "mediaId": voice["mediaId"]},
            },
        )
        wait_for(wa, "message_ack", lambda f: f.get("tempId") == "voice-1")
        pushed = wait_for(wb, "message", lambda f: f["content"].get("type") == "voice")
    content = pushed["content"]
    assert content["mediaId"] == voice["mediaId"]
    assert round(content["duration"]) == 4
    assert len(content["waveform"]) == 48
    chats = client.get(f"{API}/chats", headers=bob.headers).json()["chats"]
    assert chats[0]["lastMessage"]["preview"] == "🎤 Voice message (0:04)"
