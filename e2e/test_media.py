"""User stories with media in real browsers: a photo, a PDF and a voice note from Alice reach
Bob live; Bob opens the photo viewer, plays the voice note and downloads the PDF intact."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.conftest import send, start_chat
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
