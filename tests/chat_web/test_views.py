"""What a media message becomes in the browser: the fields its bubble draws."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.models import Message, Receipts
from chat_web.views import Viewer, human_size, message_view

AT = datetime(2026, 1, 1, tzinfo=UTC)


def view_of(content: dict) -> object:
    return message_view(Message("m1", "c1", "alice", content, AT), Viewer("bob"), Receipts())


def test_a_photo_fits_the_bubble_and_keeps_its_placeholder_and_caption():
    view = view_of(
        {"type": "image", "mediaId": "p1", "width": 1920, "height": 1080,
         "placeholder": "data:image/jpeg;base64,AAA", "caption": "Sunset"}
    )  # fmt: skip
    assert (view.kind, view.media_id, view.text) == ("image", "p1", "Sunset")
    assert (view.width, view.height) == (300, 169)
    assert view.placeholder == "data:image/jpeg;base64,AAA"


def test_documents_voice_and_video_show_their_facts():
    doc = view_of({"type": "document", "mediaId": "d1", "name": "report.pdf", "size": 1_234_567})
    assert (doc.media_name, doc.media_info) == ("report.pdf", "PDF · 1.2 MB")
    voice = view_of({"type": "voice", "mediaId": "v1", "duration": 12.4, "waveform": [1, 50, 100]})
    assert (voice.media_info, voice.waveform) == ("0:12", [1, 50, 100])
    video = view_of({"type": "video", "mediaId": "x1", "duration": 75, "width": 320, "height": 240})
    assert (video.media_info, video.width, video.height) == ("1:15", 300, 225)


def test_broken_media_payloads_degrade_instead_of_failing():
    view = view_of({"type": "image", "mediaId": "p1", "width": "wide", "waveform": "x"})
    assert (view.kind, view.width, view.height, view.waveform) == ("image", 300, 225, [])
    assert view_of({"type": "image"}).kind == "text"  # no media id: nothing to draw
    assert view_of({"type": "sealed", "ciphertext": "..."}).text == ""


def test_sizes_read_like_a_file_manager():
    assert [human_size(n) for n in (0, 999, 1000, 5_300_000, 2 * 10**9)] == [
        "0 B",
        "999 B",
        "1.0 KB",
        "5.3 MB",
        "2.0 GB",
    ]
