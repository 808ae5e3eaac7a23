"""User stories with media in real browsers: a photo, a PDF and a voice note from Alice reach
Bob live; Bob opens the photo viewer, plays the voice note and downloads the PDF intact. A
file's bubble shows at once and completes in place; the chat's gallery opens the viewer,
which steps from photos to videos and plays them; a cancelled upload frees its storage; and
all of it fits a phone's one-pane layout."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.conftest import send, start_chat
from e2e.test_groups import create_group
from tests import media_samples as samples

# Records that an upload progress bar was shown (uploads on loopback finish in milliseconds).
PROGRESS_RECORDER = """
window.__sawProgress = false;
new MutationObserver(() => {
  if (document.querySelector('[data-testid=upload-progress]')) window.__sawProgress = true;
}).observe(document, {subtree: true, childList: true});
"""


def attach(page: Page, path: Path, caption: str = "") -> None:
    page.get_by_test_id("attach-input").set_input_files(str(path))
    if caption:
        page.get_by_test_id("media-caption").fill(caption)
    page.get_by_test_id("media-send-button").click()


def loaded(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


def test_alice_sends_a_photo_a_pdf_and_a_voice_note_bob_gets_them_live(person, tmp_path):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "Files coming")
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    bob.page.wait_for_url(f"**/chats/{chat_id}")
    expect(bob.page.get_by_test_id("message").filter(has_text="Files coming")).to_be_visible()
    alice.page.evaluate(PROGRESS_RECORDER)

    # A photo with a caption.
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(samples.jpeg_with_location(1600, 1200))
    attach(alice.page, photo, caption="Look at this")
    image = bob.page.get_by_test_id("message-image")
    expect(image).to_be_visible()
    expect(image).to_have_attribute("loading", "lazy")
    expect(bob.page.get_by_test_id("message").filter(has=image)).to_contain_text("Look at this")
    bob.page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=message-image]');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert alice.page.evaluate("window.__sawProgress")
    expect(alice.page.get_by_test_id("message-image")).to_be_visible()

    # Bob opens it full screen, and closes the viewer again.
    image.click()
    viewer = bob.page.get_by_test_id("photo-viewer")
    expect(viewer).to_be_visible()
    expect(bob.page.get_by_test_id("photo-viewer-image")).to_have_attribute(
        "src", re.compile(r"/api/v1/media/[0-9a-f-]+/full$")
    )
    bob.page.wait_for_function(
        "() => document.querySelector('[data-testid=photo-viewer-image]').naturalWidth === 1600"
    )
    bob.page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)

    # A PDF: Bob downloads it and gets the same bytes.
    pdf_bytes = samples.pdf("Quarterly figures")
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf_bytes)
    attach(alice.page, report)
    document = bob.page.get_by_test_id("message-document")
    expect(document).to_contain_text("report.pdf")
    expect(document).to_contain_text("PDF")
    with bob.page.expect_download() as download:
        document.click()
    assert download.value.suggested_filename == "report.pdf"
    assert Path(download.value.path()).read_bytes() == pdf_bytes
    item = bob.page.get_by_test_id(f"chat-item-{chat_id}")
    expect(item).to_contain_text("📄 report.pdf")

    # A voice note from the (fake) microphone: about two seconds of a tone.
    alice.page.get_by_test_id("voice-record-button").click()
    expect(alice.page.get_by_test_id("voice-timer")).to_have_text(re.compile(r"0:0[2-9]"))
    alice.page.get_by_test_id("voice-record-button").click()
    voice = bob.page.get_by_test_id("message-voice")
    expect(voice).to_be_visible()
    bubble = bob.page.get_by_test_id("message").filter(has=voice)
    expect(bubble.locator(".media-duration")).to_have_text(re.compile(r"0:0[1-9]"))
    expect(item).to_contain_text(re.compile(r"🎤 Voice message \(0:0[1-9]\)"))
    played = bob.page.evaluate(
        """async () => {
            const audio = document.querySelector('[data-testid=message-voice]');
            await audio.play();
            await new Promise(r => setTimeout(r, 700));
            return audio.currentTime;
        }"""
    )
    assert played > 0.2


def test_a_disguised_file_is_refused_with_its_reason_and_can_be_dismissed(person, tmp_path):
    alice, bob = person("Alice"), person("Bob")
    start_chat(alice, bob)
    fake = tmp_path / "cat.jpg"
    fake.write_bytes(samples.HTML_PAGE)

    attach(alice.page, fake)

    expect(alice.page.get_by_role("alert")).to_contain_text("disguised")
    expect(alice.page.get_by_test_id("upload-retry")).to_be_visible()
    expect(alice.page.get_by_test_id("message-image")).to_have_count(0)


def test_pasted_and_dropped_files_are_sent_and_a_cancelled_upload_is_not(person, tmp_path):
    alice, bob = person("Alice"), person("Bob")
    start_chat(alice, bob)
    page = alice.page
    photo_b64 = base64.b64encode(samples.png_with_alpha()).decode()
    pdf_b64 = base64.b64encode(samples.pdf()).decode()

    # Paste an image into the message box (what a screenshot paste does).
    page.get_by_test_id("message-input").focus()
    page.evaluate(
        """b64 => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], 'screenshot.png', {type: 'image/png'}));
            const box = document.querySelector('[data-testid=message-input]');
            box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true,
                                                          cancelable: true}));
        }""",
        photo_b64,
    )
    page.get_by_test_id("media-send-button").click()
    expect(page.get_by_test_id("message-image")).to_have_count(1)
    expect(bob.page.get_by_test_id(f"chat-item-{page.url.rsplit('/', 1)[1]}")).to_contain_text(
        "📷 Photo"
    )

    # Drop a PDF onto the conversation.
    page.evaluate(
        """b64 => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], 'dropped.pdf', {type: 'application/pdf'}));
            const list = document.querySelector('[data-testid=message-list]');
            for (const type of ['dragover', 'drop'])
              list.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true,
                                                      cancelable: true}));
        }""",
        pdf_b64,
    )
    page.get_by_test_id("media-send-button").click()
    expect(page.get_by_test_id("message-document")).to_contain_text("dropped.pdf")

    # An upload held up on the way can be cancelled: no message comes of it.
    held = []
    page.route("**/api/v1/media/upload**", lambda route: held.append(route))
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(samples.pdf("never sent"))
    attach(page, slow)
    expect(page.get_by_test_id("upload-progress")).to_be_visible()
    page.get_by_test_id("upload-cancel").click()
    expect(page.get_by_test_id("upload-progress")).to_have_count(0)
    page.unroute("**/api/v1/media/upload**")
    expect(page.get_by_test_id("message-document")).to_have_count(1)
    assert held  # the request really was in flight when it was cancelled

    # Hold the microphone button to record, release to send.
    button = page.get_by_test_id("voice-record-button")
    box = button.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(page.get_by_test_id("voice-timer")).to_have_text(re.compile(r"0:0[1-9]"))
    page.mouse.up()
    expect(page.get_by_test_id("voice-timer")).to_have_count(0)
    expect(page.get_by_test_id("message-voice")).to_have_count(1)
    expect(bob.page.get_by_test_id(f"chat-item-{page.url.rsplit('/', 1)[1]}")).to_contain_text(
        "🎤 Voice message"
    )


# --- the optimistic bubble, the gallery and the viewer (photos and videos) -------------------

UPLOADS = "**/api/v1/media/upload**"
GALLERY_PAGE = 24  # chat_web/states/gallery.py GALLERY_PAGE
SENT = re.compile(r"^(sent|delivered|read)$")


def bubble_with(page: Page, test_id: str):
    return page.get_by_test_id("message").filter(has=page.get_by_test_id(test_id))


def message_id(page: Page, test_id: str) -> str:
    value = bubble_with(page, test_id).get_attribute("data-message-id")
    assert value
    return value


def used_bytes(page: Page) -> int:
    """The signed-in user's storage use, asked with the page's own cookie."""
    response = page.request.get("/api/v1/media/usage")
    assert response.ok, response.text()
    return int(response.json()["usedBytes"])


def test_a_photo_shows_before_its_upload_ends_then_bob_browses_the_gallery_and_plays_a_video(
    person, tmp_path
):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "Holiday pictures")
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    bob.page.wait_for_url(f"**/chats/{chat_id}")

    # The upload is held on its way: the bubble is there already, from Alice's own copy.
    held = []
    alice.page.route(UPLOADS, lambda route: held.append(route))
    photo = tmp_path / "beach.jpg"
    photo.write_bytes(samples.jpeg_with_location(1200, 800))
    attach(alice.page, photo, caption="The beach")
    pending = bubble_with(alice.page, "upload-preview")
    expect(pending).to_have_attribute("data-status", "pending")
    expect(pending).to_contain_text("The beach")
    expect(pending.get_by_test_id("upload-preview")).to_have_attribute("src", re.compile("^blob:"))
    expect(pending.get_by_test_id("upload-progress")).to_be_visible()
    expect(pending.get_by_test_id("upload-cancel")).to_be_visible()
    alice.page.wait_for_function(
        "() => document.querySelector('[data-testid=upload-preview]').naturalWidth === 1200"
    )
    assert held, "the upload should still be on its way"
    pending.evaluate("node => { node.__theSameBubble = true; }")

    # It completes in place: the same bubble, now the server's copy, no duplicate.
    held.pop().continue_()
    alice.page.unroute(UPLOADS)
    done = bubble_with(alice.page, "message-image")
    expect(done).to_have_attribute("data-status", SENT)
    expect(done.get_by_test_id("message-image")).to_have_attribute(
        "src", re.compile(r"/api/v1/media/[0-9a-f-]+/preview$")
    )
    assert done.evaluate("node => node.__theSameBubble === true")
    expect(alice.page.get_by_test_id("message")).to_have_count(2)
    expect(alice.page.get_by_test_id("upload-progress")).to_have_count(0)
    expect(bob.page.get_by_test_id("message-image")).to_be_visible()

    # A PDF and a video follow.
    report = tmp_path / "report.pdf"
    report.write_bytes(samples.pdf("Itinerary"))
    attach(alice.page, report)
    expect(bob.page.get_by_test_id("message-document")).to_contain_text("report.pdf")
    clip = tmp_path / "waves.webm"
    clip.write_bytes(samples.webm_video(tmp_path, seconds=3))
    attach(alice.page, clip)
    expect(bob.page.get_by_test_id("message-video")).to_be_visible()
    photo_id, pdf_id, video_id = (
        message_id(bob.page, t) for t in ("message-image", "message-document", "message-video")
    )

    # Bob opens the chat's info: its gallery shows the photo and the video, then the PDF.
    bob.page.get_by_test_id("contact-info-button").click()
    gallery = bob.page.get_by_test_id("media-gallery")
    expect(gallery).to_be_visible()
    expect(gallery.get_by_test_id(f"gallery-item-{photo_id}")).to_be_visible()
    expect(gallery.get_by_test_id(f"gallery-item-{video_id}")).to_contain_text("0:03")
    expect(gallery.get_by_test_id(f"gallery-item-{pdf_id}")).to_have_count(0)
    gallery.get_by_test_id("gallery-tab-documents").click()
    expect(gallery.get_by_test_id(f"gallery-item-{pdf_id}")).to_contain_text("report.pdf")
    expect(gallery.get_by_test_id(f"gallery-item-{photo_id}")).to_have_count(0)
    gallery.get_by_test_id("gallery-tab-voice").click()
    expect(gallery).to_contain_text("No voice messages yet.")
    gallery.get_by_test_id("gallery-tab-media").click()

    # The viewer opens at the photo and steps to the video, which plays (and seeks: the
    # server answers byte ranges).
    ranges: list[int] = []
    bob.page.on(
        "response",
        lambda r: (
            ranges.append(r.status) if "/api/v1/media/" in r.url and r.status == 206 else None
        ),
    )
    gallery.get_by_test_id(f"gallery-item-{photo_id}").click()
    viewer = bob.page.get_by_test_id("photo-viewer")
    expect(viewer).to_be_visible()
    expect(bob.page.get_by_test_id("photo-viewer-image")).to_have_attribute(
        "src", re.compile(r"/full$")
    )
    expect(bob.page.get_by_test_id("photo-viewer-next")).to_be_enabled()
    expect(bob.page.get_by_test_id("photo-viewer-prev")).to_be_disabled()  # the oldest
    bob.page.get_by_test_id("photo-viewer-next").click()
    video = bob.page.get_by_test_id("photo-viewer-video")
    expect(video).to_have_attribute("poster", re.compile(r"/poster$"))
    expect(bob.page.get_by_test_id("photo-viewer-image")).to_have_count(0)
    expect(bob.page.get_by_test_id("photo-viewer-next")).to_be_disabled()  # the newest
    played = video.evaluate(
        """async (video) => {
            await video.play();
            await new Promise(r => setTimeout(r, 700));
            const playing = video.currentTime;
            video.currentTime = 2.0;
            await new Promise(r => video.addEventListener('seeked', r, {once: true}));
            return [playing, video.currentTime, video.seekable.end(0)];
        }"""
    )
    assert played[0] > 0.2, played
    assert played[1] >= 1.9 and played[2] >= 2.9, played
    assert ranges, "the video should have been fetched in byte ranges"
    bob.page.keyboard.press("ArrowLeft")
    expect(bob.page.get_by_test_id("photo-viewer-image")).to_be_visible()
    # Escape closes the viewer, not the panel under it.
    bob.page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    expect(gallery).to_be_visible()


def test_an_open_gallery_shows_a_file_sent_and_loses_one_deleted_live(person, tmp_path):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "Pictures coming")
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    bob.page.get_by_test_id("contact-info-button").click()
    gallery = bob.page.get_by_test_id("media-gallery")
    expect(gallery).to_contain_text("No photos or videos yet.")

    photo = tmp_path / "live.jpg"
    photo.write_bytes(samples.jpeg_with_location(640, 480))
    attach(alice.page, photo)
    expect(bob.page.get_by_test_id("message-image")).to_be_visible()
    photo_id = message_id(bob.page, "message-image")
    expect(gallery.get_by_test_id(f"gallery-item-{photo_id}")).to_be_visible()

    # Alice deletes it for everyone: it leaves Bob's open gallery too.
    sent = bubble_with(alice.page, "message-image")
    expect(sent).to_have_attribute("data-status", SENT)
    sent.hover()
    sent.get_by_test_id("message-actions").click()
    alice.page.get_by_test_id("action-delete-everyone").click()
    expect(gallery.get_by_test_id(f"gallery-item-{photo_id}")).to_have_count(0)
    expect(gallery).to_contain_text("No photos or videos yet.")

    # Another one, which Bob deletes for himself in his other tab: gone from this one's
    # gallery as well.
    attach(alice.page, photo)
    expect(gallery.locator("[data-testid^=gallery-item-]")).to_have_count(1)
    other_tab = bob.page.context.new_page()
    other_tab.goto(f"/chats/{chat_id}")
    received = bubble_with(other_tab, "message-image")
    second_id = message_id(other_tab, "message-image")
    expect(gallery.get_by_test_id(f"gallery-item-{second_id}")).to_be_visible()
    received.hover()
    received.get_by_test_id("message-actions").click()
    other_tab.get_by_test_id("action-delete-me").click()
    expect(received).to_have_count(0)
    expect(gallery.get_by_test_id(f"gallery-item-{second_id}")).to_have_count(0)


def test_alice_cancels_an_upload_and_her_quota_usage_goes_back_down(person, tmp_path):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    send(alice.page, "A big file is coming")
    bob.page.get_by_test_id(f"chat-item-{chat_id}").click()
    assert used_bytes(alice.page) == 0

    # The upload is held on its way; the server gets the same request (the same temp id)
    # and stores the file, but its answer never reaches Alice's tab.
    held = []
    alice.page.route(UPLOADS, lambda route: held.append(route))
    big = tmp_path / "archive.pdf"
    big.write_bytes(samples.pdf("Archive") + b"%" * 300_000)
    attach(alice.page, big)
    pending = bubble_with(alice.page, "upload-cancel")
    expect(pending).to_have_attribute("data-status", "pending")
    expect(pending).to_contain_text("archive.pdf")
    expect(pending).to_contain_text("PDF · 300.6 KB")
    assert held and "tempId=" in held[0].request.url
    delivered = alice.page.request.post(
        held[0].request.url,
        data=big.read_bytes(),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert delivered.status == 201, delivered.text()
    assert used_bytes(alice.page) == big.stat().st_size

    pending.get_by_test_id("upload-cancel").click()

    expect(alice.page.get_by_test_id("upload-progress")).to_have_count(0)
    expect(alice.page.get_by_test_id("message")).to_have_count(1)
    for _ in range(50):
        if used_bytes(alice.page) == 0:
            break
        alice.page.wait_for_timeout(100)
    assert used_bytes(alice.page) == 0
    alice.page.unroute(UPLOADS)
    expect(bob.page.get_by_test_id("message")).to_have_count(1)
    expect(bob.page.get_by_test_id("message-document")).to_have_count(0)


def test_an_upload_that_breaks_keeps_its_bubble_and_retry_sends_it(person, tmp_path):
    alice, bob = person("Alice"), person("Bob")
    start_chat(alice, bob)
    page = alice.page
    page.route(UPLOADS, lambda route: route.abort("connectionreset"))
    notes = tmp_path / "notes.pdf"
    notes.write_bytes(samples.pdf("Notes"))
    attach(page, notes, caption="My notes")

    failed = bubble_with(page, "upload-retry")
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed).to_contain_text("My notes")
    expect(page.get_by_test_id("composer-error")).to_contain_text("Could not upload notes.pdf")
    page.unroute(UPLOADS)
    failed.evaluate("node => { node.__theSameBubble = true; }")
    failed.get_by_test_id("upload-retry").click()

    sent = bubble_with(page, "message-document")
    expect(sent).to_have_attribute("data-status", SENT)
    expect(sent).to_contain_text("My notes")
    assert sent.evaluate("node => node.__theSameBubble === true")
    expect(page.get_by_test_id("message")).to_have_count(1)
    expect(bob.page.get_by_test_id("chat-item-" + page.url.rsplit("/", 1)[1])).to_contain_text(
        "📄 notes.pdf"
    )


def test_the_gallery_loads_older_files_a_page_at_a_time(person, app_services, tmp_path):
    alice, bob = person("Alice"), person("Bob")
    chat_id = start_chat(alice, bob)
    alice_id = next(
        u.id for u in app_services.accounts.search_users("", alice.username)
        if u.username == alice.username
    )  # fmt: skip
    photo = tmp_path / "p.jpg"
    photo.write_bytes(samples.jpeg_with_location(64, 48))
    sent, media_ids = [], []
    for i in range(GALLERY_PAGE + 2):  # one page and a bit, arranged behind the app's back
        media = app_services.media.upload(alice_id, chat_id, photo, f"p{i}.jpg")
        content = {"type": "image", "mediaId": media.id}
        sent.append(app_services.messaging.send_message(alice_id, chat_id, content).id)
        media_ids.append(media.id)
    page = bob.page
    page.reload()
    page.get_by_test_id(f"chat-item-{chat_id}").click()
    page.get_by_test_id("contact-info-button").click()

    tiles = page.get_by_test_id("media-gallery").locator("[data-testid^=gallery-item-]")
    expect(tiles).to_have_count(GALLERY_PAGE)
    expect(page.get_by_test_id(f"gallery-item-{sent[-1]}")).to_be_visible()  # newest first
    expect(page.get_by_test_id(f"gallery-item-{sent[0]}")).to_have_count(0)
    page.get_by_test_id("gallery-more").click()
    expect(tiles).to_have_count(GALLERY_PAGE + 2)
    expect(page.get_by_test_id("gallery-more")).to_have_count(0)
    # The viewer, opened at the oldest, reaches the newest (it pages through the chat too).
    page.get_by_test_id(f"gallery-item-{sent[0]}").click()
    expect(page.get_by_test_id("photo-viewer-next")).to_be_enabled()
    for _ in range(GALLERY_PAGE + 1):
        page.get_by_test_id("photo-viewer-next").click()
    expect(page.get_by_test_id("photo-viewer-next")).to_be_disabled()
    expect(page.get_by_test_id("photo-viewer-image")).to_have_attribute(
        "src", f"/api/v1/media/{media_ids[-1]}/full"
    )


def test_on_a_phone_the_bubble_the_group_gallery_and_the_viewer_fit_one_pane(person, tmp_path):
    phone = {"viewport": {"width": 390, "height": 844}, "has_touch": True}
    carol, dave = person("Carol", **phone), person("Dave")
    chat_id = create_group(carol, "Trip", [dave])
    page = carol.page
    expect(page.get_by_test_id(f"chat-item-{chat_id}")).to_be_hidden()  # one pane: the chat

    held = []
    page.route(UPLOADS, lambda route: held.append(route))
    photo = tmp_path / "map.jpg"
    photo.write_bytes(samples.jpeg_with_location(800, 1200))
    attach(page, photo)
    pending = bubble_with(page, "upload-preview")
    expect(pending).to_have_attribute("data-status", "pending")
    expect(pending.get_by_test_id("upload-progress")).to_be_in_viewport()
    box = pending.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    held.pop().continue_()
    page.unroute(UPLOADS)
    expect(bubble_with(page, "message-image")).to_have_attribute("data-status", SENT)
    photo_id = message_id(page, "message-image")

    page.get_by_test_id("group-info-button").click()
    tile = page.get_by_test_id(f"gallery-item-{photo_id}")
    expect(tile).to_be_visible()
    gallery_box = page.get_by_test_id("media-gallery").bounding_box()
    assert gallery_box is not None and gallery_box["x"] + gallery_box["width"] <= 390
    tile.click()
    expect(page.get_by_test_id("photo-viewer-image")).to_be_in_viewport()
    page.get_by_test_id("photo-viewer-close").click()
    expect(page.get_by_test_id("photo-viewer")).to_have_count(0)
    expect(page.get_by_test_id("media-gallery")).to_be_visible()
