"""Media: each kind's processing, the refusals (disguises, floods, sizes, quota), membership-checked
fetching, and media messages with their chat-list previews."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from backend.container import Services
from backend.errors import InvalidInput, NotFound, QuotaExceeded, TooLarge, UnsupportedMedia
from backend.models import Chat, MediaKind
from backend.settings import Settings
from tests import media_samples as samples
from tests.backend.helpers import Person
from tests.backend.media_helpers import Upload, fetch, services_with
from tests.conftest import FakeClock

# --- photos ---------------------------------------------------------------------------------


def test_a_photo_gets_the_seed_sizes_without_its_location(
    services: Services, upload: Upload, alice: Person, bob: Person, chat: Chat
) -> None:
    original = samples.jpeg_with_location(2400, 1600)
    assert b"SpyCam" in original  # the sample really carries metadata

    photo = upload(alice, chat, original, "holiday.jpg")

    assert photo.kind is MediaKind.IMAGE
    assert set(photo.variants) == {"thumbnail", "preview", "full", "webp"}
    assert "original" not in photo.variants  # the file with EXIF is never kept
    sizes = {}
    for variant in photo.variants:
        data = fetch(services, bob, photo, variant)
        with Image.open(io.BytesIO(data)) as image:
            sizes[variant] = image.size
            assert not image.getexif(), f"{variant} still has EXIF"
            assert image.format == ("WEBP" if variant == "webp" else "JPEG")
        assert b"SpyCam" not in data
    assert sizes["thumbnail"] == (100, 100)
    assert max(sizes["preview"]) == 400
    assert sizes["full"] == sizes["webp"] == (1920, 1280)
    assert (photo.meta["width"], photo.meta["height"]) == (1920, 1280)
    assert photo.meta["placeholder"].startswith("data:image/jpeg;base64,")
    assert len(photo.meta["placeholder"]) < 2000  # tiny: it travels inside the message


def test_a_rotated_photo_is_stored_upright(
    services: Services, upload: Upload, alice: Person, chat: Chat
) -> None:
    photo = upload(alice, chat, samples.jpeg_with_location(600, 300, orientation=6), "side.jpg")

    with Image.open(io.BytesIO(fetch(services, alice, photo, "full"))) as image:
        assert image.size == (300, 600)


def test_a_transparent_png_becomes_a_photo(upload: Upload, alice: Person, chat: Chat) -> None:
    photo = upload(alice, chat, samples.png_with_alpha(), "sticker.png")

    assert photo.kind is MediaKind.IMAGE
    assert (photo.meta["width"], photo.meta["height"]) == (300, 200)


def test_a_photo_sent_as_a_document_is_kept_untouched(
    services: Services, upload: Upload, alice: Person, chat: Chat
) -> None:
    original = samples.jpeg_with_location()

    doc = upload(alice, chat, original, "scan.jpg", as_document=True)

    assert doc.kind is MediaKind.DOCUMENT
    assert fetch(services, alice, doc) == original


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (samples.HTML_PAGE, "cat.jpg"),
        (samples.SVG_IMAGE, "cat.jpg"),
        (samples.HTML_PAGE, "report.pdf"),
        (samples.SVG_IMAGE, "logo.png"),
    ],
    ids=["html-as-jpg", "svg-as-jpg", "html-as-pdf", "svg-as-png"],
)
def test_markup_in_disguise_is_refused(
    upload: Upload, services: Services, alice: Person, chat: Chat, data: bytes, name: str
) -> None:
    with pytest.raises(UnsupportedMedia, match="disguised"):
        upload(alice, chat, data, name)
    assert services.media._store.used_bytes(alice.id) == 0


def test_a_zip_named_like_a_photo_is_refused(upload: Upload, alice: Person, chat: Chat) -> None:
    with pytest.raises(UnsupportedMedia, match="not really a picture"):
        upload(alice, chat, samples.zip_archive(), "photo.png")


def test_a_pixel_flood_is_refused_before_it_is_decoded(
    upload: Upload, alice: Person, chat: Chat
) -> None:
    bomb = samples.pixel_flood_png()
    assert len(bomb) < 200_000  # 900 megapixels in a small file

    with pytest.raises(TooLarge, match="too many pixels"):
        upload(alice, chat, bomb, "bomb.png")


def test_a_truncated_photo_is_refused(upload: Upload, alice: Person, chat: Chat) -> None:
    photo = samples.jpeg_with_location()

    with pytest.raises(UnsupportedMedia, match="damaged"):
        upload(alice, chat, photo[: len(photo) // 3], "half.jpg")


def test_an_empty_file_is_refused(upload: Upload, alice: Person, chat: Chat) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        upload(alice, chat, b"", "nothing.txt")


def test_each_kind_has_its_size_limit(
    settings: Settings, clock: FakeClock, alice: Person, chat: Chat, tmp_path: Path
) -> None:
    small = services_with(settings, clock, max_document_bytes=1000, max_image_bytes=20_000)
    doc, photo = tmp_path / "a.pdf", tmp_path / "b.jpg"
    doc.write_bytes(samples.pdf() + b"%" * 1000)
    photo.write_bytes(samples.jpeg_with_location())

    with pytest.raises(TooLarge) as too_big:
        small.media.upload(alice.id, chat.id, doc, "a.pdf")
    assert too_big.value.params["limit"] == 1000
    with pytest.raises(TooLarge, match="image is too large"):
        small.media.upload(alice.id, chat.id, photo, "b.jpg")


def test_uploads_stop_at_the_storage_quota(
    settings: Settings, clock: FakeClock, alice: Person, chat: Chat, tmp_path: Path
) -> None:
    limited = services_with(settings, clock, media_quota_bytes=5000)
    doc = tmp_path / "a.pdf"
    doc.write_bytes(samples.pdf() + b"%" * 2000)  # ~2.6 KB: one fits, two don't

    limited.media.upload(alice.id, chat.id, doc, "first.pdf")
    with pytest.raises(QuotaExceeded):
        limited.media.upload(alice.id, chat.id, doc, "second.pdf")
    assert limited.media._store.used_bytes(alice.id) == doc.stat().st_size


# --- documents, videos, voice ---------------------------------------------------------------


def test_a_document_keeps_its_name_and_always_downloads(
    services: Services, upload: Upload, alice: Person, bob: Person, chat: Chat
) -> None:
    data = samples.pdf()

    doc = upload(alice, chat, data, "../../Q3 report\x07.pdf")

    assert doc.kind is MediaKind.DOCUMENT
    assert (doc.name, doc.mime, doc.size) == ("Q3 report.pdf", "application/pdf", len(data))
    download = services.media.download(bob.id, doc.id)
    assert download.disposition.startswith("attachment;")
    assert "filename*=UTF-8''Q3%20report.pdf" in download.disposition
    assert fetch(services, bob, doc) == data


def test_an_html_document_downloads_as_opaque_bytes(
    services: Services, upload: Upload, alice: Person, chat: Chat
) -> None:
    page = upload(alice, chat, samples.HTML_PAGE, "page.html")

    download = services.media.download(alice.id, page.id)
    assert page.mime == "text/html"
    assert download.content_type == "application/octet-stream"
    assert download.disposition.startswith("attachment;")


def test_a_video_gets_a_poster_and_its_duration(
    services: Services, upload: Upload, alice: Person, chat: Chat, tmp_path: Path
) -> None:
    video = upload(alice, chat, samples.webm_video(tmp_path, seconds=2), "clip.webm")

    assert video.kind is MediaKind.VIDEO
    assert video.meta["duration"] == pytest.approx(2, abs=0.2)
    assert (video.meta["width"], video.meta["height"]) == (320, 240)
    with Image.open(io.BytesIO(fetch(services, alice, video, "poster"))) as poster:
        assert poster.format == "JPEG"
        assert poster.size == (320, 240)
    assert services.media.download(alice.id, video.id).content_type == "video/webm"


@pytest.mark.parametrize("container", ["ogg", "webm"])
def test_an_opus_voice_note_gets_duration_and_waveform(
    services: Services, upload: Upload, alice: Person, chat: Chat, tmp_path: Path, container: str
) -> None:
    data = samples.opus_voice(tmp_path, seconds=3, container=container)

    voice = upload(alice, chat, data, f"note.{container}")

    assert voice.kind is MediaKind.VOICE
    assert voice.meta["duration"] == pytest.approx(3, abs=0.1)
    waveform = voice.meta["waveform"]
    assert len(waveform) == 48 and max(waveform) == 100 and min(waveform) > 50  # a steady tone
    assert services.media.download(alice.id, voice.id).content_type == f"audio/{container}"
    assert fetch(services, alice, voice) == data


def test_other_audio_is_a_document(
    upload: Upload, alice: Person, chat: Chat, tmp_path: Path
) -> None:
    song = upload(alice, chat, samples.mp3_audio(tmp_path), "song.mp3")

    assert (song.kind, song.mime) == (MediaKind.DOCUMENT, "audio/mpeg")


# --- who may see what ----------------------------------------------------------------------


def test_only_members_of_the_chat_can_fetch_its_media(
    services: Services, upload: Upload, alice: Person, bob: Person, carol: Person, chat: Chat
) -> None:
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg")

    assert fetch(services, bob, photo, "thumbnail")
    with pytest.raises(NotFound) as outsider:
        services.media.download(carol.id, photo.id, "thumbnail")
    with pytest.raises(NotFound) as unknown:
        services.media.download(carol.id, "00000000-0000-4000-8000-000000000000")
    assert outsider.value.message == unknown.value.message  # no hint that the id exists
    with pytest.raises(NotFound):
        services.media.download(bob.id, photo.id, "original")  # no such variant for photos


def test_uploading_needs_membership(
    services: Services, alice: Person, bob: Person, carol: Person, chat: Chat, tmp_path: Path
) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(samples.pdf())

    with pytest.raises(NotFound):
        services.media.upload(carol.id, chat.id, path, "x.pdf")


# --- media messages -------------------------------------------------------------------------


def test_media_messages_carry_what_the_server_measured(
    services: Services, upload: Upload, alice: Person, bob: Person, chat: Chat, tmp_path: Path
) -> None:
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg")
    voice = upload(alice, chat, samples.opus_voice(tmp_path, seconds=12), "v.ogg")
    doc = upload(alice, chat, samples.pdf(), "report.pdf")
    send = services.messaging.send_message

    sent_photo = send(
        alice.id, chat.id, {"type": "image", "mediaId": photo.id, "width": 1, "caption": " Hi "}
    )
    assert sent_photo.content["width"] == 640  # the client's claim is ignored
    assert sent_photo.content["caption"] == "Hi"
    assert services.chats.list_chats(bob.id)[0].chat.last_preview == "📷 Hi"

    send(alice.id, chat.id, {"type": "voice", "mediaId": voice.id})
    assert services.chats.list_chats(bob.id)[0].chat.last_preview == "🎤 Voice message (0:12)"

    sent_doc = send(alice.id, chat.id, {"type": "document", "mediaId": doc.id})
    assert services.chats.list_chats(bob.id)[0].chat.last_preview == "📄 report.pdf"
    assert sent_doc.content == {
        "type": "document",
        "mediaId": doc.id,
        "name": "report.pdf",
        "mime": "application/pdf",
        "size": doc.size,
    }
    history = services.messaging.list_messages(bob.id, chat.id).messages
    assert [m.content["type"] for m in history] == ["image", "voice", "document"]


def test_a_photo_without_caption_previews_as_photo(
    services: Services, upload: Upload, alice: Person, bob: Person, chat: Chat
) -> None:
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg")

    services.messaging.send_message(alice.id, chat.id, {"type": "image", "mediaId": photo.id})

    assert services.chats.list_chats(bob.id)[0].chat.last_preview == "📷 Photo"


def test_media_messages_refuse_someone_elses_or_mismatched_uploads(
    services: Services,
    upload: Upload,
    register: Callable[..., Person],
    alice: Person,
    bob: Person,
    carol: Person,
    chat: Chat,
) -> None:
    photo = upload(alice, chat, samples.jpeg_with_location(), "p.jpg")
    other_chat = services.chats.open_direct_chat(alice.id, carol.id)
    send = services.messaging.send_message

    with pytest.raises(InvalidInput, match="Upload the file first"):
        send(bob.id, chat.id, {"type": "image", "mediaId": photo.id})  # not bob's upload
    with pytest.raises(InvalidInput, match="another chat"):
        send(alice.id, other_chat.id, {"type": "image", "mediaId": photo.id})
    with pytest.raises(InvalidInput, match="not a document"):
        send(alice.id, chat.id, {"type": "document", "mediaId": photo.id})
    with pytest.raises(InvalidInput):
        send(alice.id, chat.id, {"type": "image", "mediaId": "not-an-id"})
    with pytest.raises(NotFound):
        send(carol.id, chat.id, {"type": "image", "mediaId": photo.id})
    assert services.messaging.list_messages(alice.id, chat.id).messages == []


# --- on S3 ----------------------------------------------------------------------------------


def test_on_s3_members_get_short_lived_links_and_outsiders_nothing(
    settings: Settings,
    clock: FakeClock,
    s3_endpoint: str,
    alice: Person,
    bob: Person,
    carol: Person,
    chat: Chat,
    tmp_path: Path,
) -> None:
    import urllib.request

    from tests.s3_server import create_bucket

    bucket = f"media-svc-{uuid.uuid4().hex[:12]}"
    create_bucket(s3_endpoint, bucket)
    on_s3 = services_with(settings, clock, s3_bucket=bucket, s3_endpoint_url=s3_endpoint)
    data = samples.pdf()
    path = tmp_path / "r.pdf"
    path.write_bytes(data)

    doc = on_s3.media.upload(alice.id, chat.id, path, "report.pdf")

    url = on_s3.media.signed_url(on_s3.media.download(bob.id, doc.id))
    assert url is not None and bucket in url and "X-Amz-Expires=300" in url
    with urllib.request.urlopen(url) as response:
        assert response.read() == data
        assert response.headers["Content-Disposition"].startswith("attachment;")
    with pytest.raises(NotFound):
        on_s3.media.download(carol.id, doc.id)
    assert not (settings.media_dir / doc.id).exists()  # nothing went to local files


def test_an_overlong_voice_note_is_refused(
    services: Services, upload: Upload, alice: Person, chat: Chat, tmp_path: Path
) -> None:
    from backend.services import media_files

    data = samples.opus_voice(tmp_path, seconds=3)
    original = media_files.MAX_VOICE_SECONDS
    media_files.MAX_VOICE_SECONDS = 1  # the real limit is 30 minutes; the rule is the same
    try:
        with pytest.raises(TooLarge, match="too long"):
            upload(alice, chat, data, "long.ogg")
    finally:
        media_files.MAX_VOICE_SECONDS = original


def test_parallel_uploads_cannot_both_slip_under_the_quota(
    settings: Settings, clock: FakeClock, alice: Person, chat: Chat, tmp_path: Path
) -> None:
    import threading

    limited = services_with(settings, clock, media_quota_bytes=6000)
    paths = []
    for i in range(6):
        path = tmp_path / f"{i}.pdf"
        path.write_bytes(samples.pdf() + b"%" * 2000)  # ~2.6 KB: two fit, not three
        paths.append(path)
    outcomes: list[str] = []
    start = threading.Barrier(len(paths))

    def send(path: Path) -> None:
        start.wait()
        try:
            limited.media.upload(alice.id, chat.id, path, path.name)
            outcomes.append("stored")
        except QuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=send, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused"] * 4 + ["stored"] * 2
    assert limited.media._store.used_bytes(alice.id) <= 6000
    stored_dirs = [d for d in (settings.media_dir).iterdir() if any(d.iterdir())]
    assert len(stored_dirs) == 2  # the refused ones left no files behind


def test_without_ffmpeg_videos_are_refused_with_a_reason_not_a_crash(
    upload: Upload, alice: Person, chat: Chat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = samples.webm_video(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no ffprobe, no ffmpeg

    with pytest.raises(UnsupportedMedia, match="can't be processed on this server"):
        upload(alice, chat, clip, "clip.webm")
