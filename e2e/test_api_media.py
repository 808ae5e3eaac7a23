"""The media API against the running app: uploads (raw and multipart), media messages, fetching
with a token or the browser's cookie, the refusals, and who may fetch what."""

from __future__ import annotations

import http.client
import io
import json
import time
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


# --- byte ranges (local files), cancelling, the sweeper ---------------------------------------


def send_media(client: httpx.Client, who, chat_id: str, media: dict) -> str:
    sent = client.post(
        f"{API}/chats/{chat_id}/messages",
        json={"content": {"type": media["kind"], "mediaId": media["mediaId"]}},
        headers=who.headers,
    )
    assert sent.status_code == 201, sent.text
    return str(sent.json()["messageId"])


def ranged(client: httpx.Client, who, url: str, spec: str) -> httpx.Response:
    return client.get(url, headers={**who.headers, "Range": f"bytes={spec}"})


def test_a_video_seeks_with_range_requests_members_only(client, tmp_path):
    alice, bob, carol = (register(client, n) for n in ("alice", "bob", "carol"))
    chat_id = open_chat(client, alice, bob)
    data = samples.webm_video(tmp_path, seconds=2)
    video = upload(client, alice, chat_id, data, "clip.webm").json()
    assert video["kind"] == "video"
    send_media(client, alice, chat_id, video)
    size, url = len(data), video["url"]

    whole = client.get(url, headers=bob.headers)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"

    head = ranged(client, bob, url, "0-99")
    assert head.status_code == 206
    assert head.headers["content-range"] == f"bytes 0-99/{size}"
    assert head.headers["content-length"] == "100"
    assert head.content == data[:100]
    assert head.headers["x-content-type-options"] == "nosniff"  # the safety headers stay
    assert head.headers["content-type"] == "video/webm"
    middle = ranged(client, bob, url, f"1000-{size + 5000}")  # an end past the file: clipped
    assert middle.status_code == 206 and middle.content == data[1000:]
    assert middle.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
    tail = ranged(client, bob, url, "-64")
    assert tail.status_code == 206 and tail.content == data[-64:]
    both = ranged(client, bob, url, "0-9,20-29")
    assert both.status_code == 206
    assert both.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert data[:10] in both.content and data[20:30] in both.content

    beyond = ranged(client, bob, url, f"{size}-")
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"
    assert_error(ranged(client, carol, url, "0-99"), 404, "not_found")  # only for members
    assert_error(httpx.get(f"{client.base_url}{url}", headers={"Range": "bytes=0-9"}), 401,
                 "unauthenticated")  # fmt: skip


def test_a_removed_member_still_fetches_what_they_received_but_nothing_newer(client):
    alice, bob, carol = (register(client, n) for n in ("alice", "bob", "carol"))
    chat_id = client.post(
        f"{API}/chats",
        json={"groupName": "Team", "participantIds": [bob.id, carol.id]},
        headers=alice.headers,
    ).json()["chatId"]
    received = upload(client, alice, chat_id, samples.pdf("before"), "before.pdf").json()
    send_media(client, alice, chat_id, received)
    removed = client.delete(f"{API}/chats/{chat_id}/members/{bob.id}", headers=alice.headers)
    assert removed.status_code == 204
    later = upload(client, carol, chat_id, samples.pdf("after"), "after.pdf").json()
    send_media(client, carol, chat_id, later)

    assert ranged(client, bob, received["url"], "0-3").content == b"%PDF"
    assert_error(client.get(later["url"], headers=bob.headers), 404, "not_found")
    gallery = client.get(f"{API}/chats/{chat_id}/media", headers=bob.headers).json()
    assert [m["name"] for m in gallery["media"]] == ["before.pdf"]


def usage(client: httpx.Client, who) -> int:
    response = client.get(f"{API}/media/usage", headers=who.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["usedBytes"])


def test_cancelling_an_upload_gives_its_storage_back(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    quota = client.get(f"{API}/media/usage", headers=alice.headers).json()["quotaBytes"]
    assert quota > 0 and usage(client, alice) == 0

    by_temp = upload(client, alice, chat_id, samples.pdf(), "a.pdf", tempId="tmp-1").json()
    assert usage(client, alice) == by_temp["size"]
    assert client.delete(f"{API}/media/uploads/tmp-1", headers=alice.headers).status_code == 204
    assert usage(client, alice) == 0
    assert_error(client.get(by_temp["url"], headers=alice.headers), 404, "not_found")
    # Cancelling again, or what was never there, is not an error.
    assert client.delete(f"{API}/media/uploads/tmp-1", headers=alice.headers).status_code == 204

    by_id = upload(client, alice, chat_id, samples.jpeg_with_location(), "p.jpg").json()
    assert usage(client, alice) > 0
    assert_error(client.delete(by_id["url"], headers=bob.headers), 404, "not_found")
    assert client.delete(by_id["url"], headers=alice.headers).status_code == 204
    assert usage(client, alice) == 0

    sent = upload(client, alice, chat_id, samples.pdf(), "sent.pdf").json()
    send_media(client, alice, chat_id, sent)
    assert_error(client.delete(sent["url"], headers=alice.headers), 400, "invalid_input")
    assert client.get(sent["url"], headers=bob.headers).status_code == 200


def test_an_upload_abandoned_while_it_is_processed_is_not_kept(client, app_data_dir, tmp_path):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    body = samples.webm_video(tmp_path, seconds=3)  # ffprobe + ffmpeg: time to walk away
    incoming = app_data_dir / "uploads"

    connection = http.client.HTTPConnection(client.base_url.host, client.base_url.port)
    connection.putrequest("POST", f"{API}/media/upload?chatId={chat_id}&filename=v.webm")
    connection.putheader("Authorization", f"Bearer {alice.token}")
    connection.putheader("Content-Type", "application/octet-stream")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    # The whole body reached the server (its temporary file is complete): then walk away.
    deadline = time.monotonic() + 10
    while not any(p.stat().st_size == len(body) for p in incoming.glob("upload-*")):
        assert time.monotonic() < deadline, "the upload never arrived whole"
        time.sleep(0.005)
    connection.close()
    while any(incoming.glob("upload-*")):  # processed (the temporary file goes at the end)
        assert time.monotonic() < deadline + 20, "the upload was never processed"
        time.sleep(0.02)
    time.sleep(0.3)  # the route's last step after processing

    assert usage(client, alice) == 0


def test_uploads_never_sent_are_swept_by_the_running_app(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    # The test server sweeps every second and keeps unsent uploads 20 s (e2e/server.py).
    forgotten = upload(client, alice, chat_id, samples.pdf("forgotten"), "forgotten.pdf").json()
    kept = upload(client, alice, chat_id, samples.pdf("kept"), "kept.pdf").json()
    send_media(client, alice, chat_id, kept)
    assert usage(client, alice) == forgotten["size"] + kept["size"]

    deadline = time.monotonic() + 60
    while usage(client, alice) != kept["size"]:
        assert time.monotonic() < deadline, "the unsent upload was never swept"
        time.sleep(1)
    assert client.get(kept["url"], headers=bob.headers).content == samples.pdf("kept")


# --- forwarded files, files of deleted messages ------------------------------------------------


def test_a_forwarded_photo_is_fetched_in_the_target_chat_and_goes_with_its_last_message(
    client, app_data_dir
):
    alice, bob, carol, dave = (register(client, n) for n in ("alice", "bob", "carol", "dave"))
    with_bob, with_carol = open_chat(client, alice, bob), open_chat(client, alice, carol)
    before = usage(client, alice)
    photo = upload(client, alice, with_bob, samples.jpeg_with_location(), "p.jpg").json()
    original = send_media(client, alice, with_bob, photo)
    variants = [f"{photo['url']}/{v}" for v in ("thumbnail", "preview", "full", "webp")]
    stored = usage(client, alice)

    forwarded = client.post(
        f"{API}/messages/{original}/forward", json={"chatIds": [with_carol]}, headers=alice.headers
    )
    assert forwarded.status_code == 201, forwarded.text
    [copy] = forwarded.json()["messages"]
    assert copy["content"]["mediaId"] == photo["mediaId"] and copy["forwarded"]

    for url in (photo["url"], *variants):  # carol is only in the chat it was forwarded to
        assert client.get(url, headers=carol.headers).status_code == 200, url
        assert_error(client.get(url, headers=dave.headers), 404, "not_found")
    gallery = client.get(f"{API}/chats/{with_carol}/media", headers=carol.headers).json()
    assert [(m["mediaId"], m["messageId"]) for m in gallery["media"]] == [
        (photo["mediaId"], copy["messageId"])
    ]
    assert usage(client, alice) == stored and usage(client, carol) == 0  # no second copy
    folder = app_data_dir / "media" / photo["mediaId"]
    assert sorted(p.name for p in folder.iterdir()) == ["full", "preview", "thumbnail", "webp"]

    # The original is deleted for everyone: bob loses it, carol keeps the forwarded copy.
    deleted = client.delete(f"{API}/messages/{original}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    assert_error(client.get(photo["url"], headers=bob.headers), 404, "not_found")
    assert client.get(variants[0], headers=carol.headers).status_code == 200
    bob_gallery = client.get(f"{API}/chats/{with_bob}/media", headers=bob.headers).json()
    assert bob_gallery["media"] == []

    # The copy too: the file leaves storage and alice's quota; nobody gets it any more.
    deleted = client.delete(f"{API}/messages/{copy['messageId']}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    for who in (alice, bob, carol):
        for url in (photo["url"], *variants):
            assert_error(client.get(url, headers=who.headers), 404, "not_found")
    assert not folder.exists()
    assert usage(client, alice) == before
