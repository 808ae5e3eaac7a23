"""What a file really is and what the product makes of it: type from magic numbers, images
re-encoded without metadata, video posters and voice waveforms from Debian's ffmpeg.

Pure functions over a file on disk; no storage, no rules about who may do what (that is
``media.py``). Everything here assumes hostile input: sizes are checked before decoding, and
the external tools run with time limits.
"""

from __future__ import annotations

import base64
import concurrent.futures
import dataclasses
import io
import json
import logging
import shutil
import subprocess
import threading
import warnings
from array import array
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter, ImageOps

from backend.errors import TooLarge, UnsupportedMedia

log = logging.getLogger(__name__)

HEAD_BYTES = 4096
PROBE_COMMAND = ("ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams")
HTML_TAGS = (b"<html", b"<!doctype html", b"<script", b"<body", b"<head", b"<iframe")
FFMPEG_SECONDS = 60
WAVEFORM_BARS = 48
VOICE_RATE = 8000  # Hz: plenty for a loudness outline, cheap to decode
MAX_VOICE_SECONDS = 30 * 60

# (variant, bounding box, square crop?) - the seed's sizes (§9): thumbnail for the chat list,
# preview for the bubble, full for the viewer; WebP is the full size in a smaller format.
IMAGE_SIZES: tuple[tuple[str, int, bool], ...] = (
    ("thumbnail", 100, True),
    ("preview", 400, False),
    ("full", 1920, False),
)
PLACEHOLDER_PX = 16
ORIENTATION_TAG = 0x0112
# One extra thread per process for the WebP encoder (see process_image).
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="webp")


@dataclasses.dataclass(frozen=True)
class Sniffed:
    mime: str
    is_markup: bool = False  # HTML or SVG: active content a browser would run


def sniff(path: Path) -> Sniffed:
    """The file's type from its first bytes; the name and the client's word are not asked."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image/gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image/webp")
    if head.startswith(b"%PDF-"):
        return Sniffed("application/pdf")
    if head.startswith(b"PK\x03\x04"):
        return Sniffed("application/zip")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("audio/mp4")
        return Sniffed("video/quicktime" if brand == b"qt  " else "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video/webm")  # Matroska/WebM: audio-only is told apart by probing
    if head.startswith(b"OggS"):
        return Sniffed("audio/ogg")
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return Sniffed("audio/mpeg")
    text = head.lstrip(b"\xef\xbb\xbf\x00 \t\r\n").lower()
    if text.startswith(b"<"):
        if b"<svg" in text:
            return Sniffed("image/svg+xml", is_markup=True)
        if any(tag in text for tag in HTML_TAGS):
            return Sniffed("text/html", is_markup=True)
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a character cut at the end of the window is fine
                return Sniffed("application/octet-stream")
        return Sniffed("text/plain")
    return Sniffed("application/octet-stream")


# --- images ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ProcessedImage:
    width: int
    height: int
    placeholder: str  # a data: URI of a tiny blurred JPEG, shown until the real one loads
    variants: dict[str, tuple[bytes, str]]  # name -> (bytes, content type)


def process_image(path: Path, max_pixels: int) -> ProcessedImage:
    """Decode (within limits), strip every piece of metadata, and make the seed's sizes.

    Re-encoding from pixels is what removes EXIF (GPS position, camera, owner): nothing of the
    original file is kept or served.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as opened:
                if opened.format not in ("JPEG", "PNG", "GIF", "WEBP"):
                    raise UnsupportedMedia("This picture's format is not supported.")
                width, height = opened.size
                if width < 1 or height < 1 or width * height > max_pixels:
                    raise TooLarge(
                        "This picture has too many pixels.",
                        size=width * height,
                        limit=max_pixels,
                    )
                # A JPEG can decode straight at a fraction of its size: far less memory.
                # (draft keeps at least the size asked for: ask for the full size's box.)
                scale = min(1.0, IMAGE_SIZES[-1][1] / max(width, height))
                opened.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
                image = _flatten(opened)
                # Turn by the EXIF orientation flag now: the flag itself is not kept.
                orientation = opened.getexif().get(ORIENTATION_TAG, 1)
                image = _upright(image, orientation)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooLarge("This picture has too many pixels.", size=0, limit=max_pixels) from exc
        except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise UnsupportedMedia("This picture is damaged or not really a picture.") from exc
    variants: dict[str, tuple[bytes, str]] = {}
    # Largest first, each smaller size from the one before: far less work than from the original.
    full = _fit_within(image, IMAGE_SIZES[-1][1])
    # WebP is the slowest encoder; Pillow releases the GIL while encoding, so it runs on another
    # core while the JPEG sizes are made (the recipient waits for all of them).
    webp = _POOL.submit(_encode, full, "WEBP", quality=80, method=0)
    variants["full"] = (_encode(full, "JPEG", quality=82), "image/jpeg")
    preview = _fit_within(full, IMAGE_SIZES[1][1])
    variants["preview"] = (_encode(preview, "JPEG", quality=82), "image/jpeg")
    thumb_box = IMAGE_SIZES[0][1]
    thumbnail = ImageOps.fit(preview, (thumb_box, thumb_box), Image.Resampling.LANCZOS)
    variants["thumbnail"] = (_encode(thumbnail, "JPEG", quality=82), "image/jpeg")
    tiny = _fit_within(preview, PLACEHOLDER_PX).filter(ImageFilter.GaussianBlur(1))
    placeholder = "data:image/jpeg;base64," + base64.b64encode(
        _encode(tiny, "JPEG", quality=40)
    ).decode("ascii")
    variants["webp"] = (webp.result(), "image/webp")
    return ProcessedImage(full.width, full.height, placeholder, variants)


def _fit_within(image: Image.Image, box: int) -> Image.Image:
    """``image`` scaled down (never up) to fit a ``box`` square, keeping its proportions."""
    scale = box / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


_TURNS = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def _upright(image: Image.Image, orientation: object) -> Image.Image:
    for turn in _TURNS.get(orientation if isinstance(orientation, int) else 1, ()):
        image = image.transpose(turn)
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels only: transparency goes onto white (as WhatsApp shows it)."""
    image.load()
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode(image: Image.Image, fmt: str, quality: int, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, quality=quality, optimize=fmt == "JPEG", **options)
    return out.getvalue()


# --- audio and video ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Probe:
    has_video: bool
    audio_codecs: tuple[str, ...]
    duration: float
    width: int
    height: int


def probe(path: Path) -> Probe:
    """What ffprobe sees in an audio/video file; refuses what it cannot read."""
    try:
        result = subprocess.run(
            [*PROBE_COMMAND, str(path)],
            capture_output=True,
            timeout=FFMPEG_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:
        raise _no_ffmpeg() from exc
    except subprocess.TimeoutExpired as exc:
        raise UnsupportedMedia("This file could not be read as audio or video.") from exc
    if result.returncode != 0:
        raise UnsupportedMedia("This file could not be read as audio or video.")
    info: dict[str, Any] = json.loads(result.stdout or b"{}")
    streams = info.get("streams", [])
    video = [s for s in streams if s.get("codec_type") == "video"]
    audio = tuple(str(s.get("codec_name", "")) for s in streams if s.get("codec_type") == "audio")
    duration = _seconds(info.get("format", {}).get("duration"))
    if not duration:
        duration = max((_seconds(s.get("duration")) for s in streams), default=0.0)
    first = video[0] if video else {}
    return Probe(
        has_video=bool(video),
        audio_codecs=audio,
        duration=duration,
        width=int(first.get("width", 0) or 0),
        height=int(first.get("height", 0) or 0),
    )


def _no_ffmpeg() -> UnsupportedMedia:
    log.error("ffmpeg/ffprobe not found: run scripts/bootstrap.sh (apt install ffmpeg)")
    return UnsupportedMedia("Videos and voice messages can't be processed on this server.")


def _seconds(value: object) -> float:
    try:
        return max(0.0, float(str(value)))
    except ValueError:
        return 0.0


def video_poster(path: Path, box: int = 400) -> bytes:
    """A JPEG of the first frame, at most ``box`` pixels wide or high (no metadata)."""
    scale = f"scale='min({box},iw)':'min({box},ih)':force_original_aspect_ratio=decrease"
    try:
        result = subprocess.run(
            [
                *["ffmpeg", "-v", "error", "-nostdin", "-i"],
                str(path),
                *["-frames:v", "1", "-map_metadata", "-1", "-vf"],
                scale,
                *["-f", "image2", "-c:v", "mjpeg", "pipe:1"],
            ],
            capture_output=True,
            timeout=FFMPEG_SECONDS,
            check=False,
        )
    except FileNotFoundError as exc:
        raise _no_ffmpeg() from exc
    except subprocess.TimeoutExpired as exc:
        raise UnsupportedMedia("This video could not be read.") from exc
    if result.returncode != 0 or not result.stdout:
        raise UnsupportedMedia("This video could not be read.")
    return result.stdout


@dataclasses.dataclass(frozen=True)
class VoiceSummary:
    duration: float
    waveform: list[int]  # WAVEFORM_BARS loudness values, 0-100


def summarize_voice(path: Path) -> VoiceSummary:
    """Decode to 8 kHz mono and measure it: the true duration (MediaRecorder's WebM often has
    none in its header) and a loudness outline for the bubble's waveform."""
    window = VOICE_RATE // 20  # 50 ms
    peaks: list[int] = []
    samples = 0
    pending = b""
    if shutil.which("ffmpeg") is None:
        raise _no_ffmpeg()
    with subprocess.Popen(
        [
            *["ffmpeg", "-v", "error", "-nostdin", "-i"],
            str(path),
            *f"-vn -ac 1 -ar {VOICE_RATE} -f s16le pipe:1".split(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as ffmpeg:
        assert ffmpeg.stdout is not None
        # A file that makes ffmpeg stall or run on is cut off: reads below cannot hang forever.
        watchdog = threading.Timer(FFMPEG_SECONDS, ffmpeg.kill)
        watchdog.start()
        try:
            while chunk := ffmpeg.stdout.read(64 * 1024):
                pending += chunk
                usable = len(pending) - len(pending) % (window * 2)
                values = array("h", pending[:usable])
                pending = pending[usable:]
                samples += len(values)
                if samples > MAX_VOICE_SECONDS * VOICE_RATE:
                    raise TooLarge(
                        "This voice message is too long.",
                        size=samples // VOICE_RATE,
                        limit=MAX_VOICE_SECONDS,
                    )
                for i in range(0, len(values), window):
                    part = values[i : i + window]
                    peaks.append(max(max(part), -min(part)))
            ffmpeg.wait(timeout=FFMPEG_SECONDS)
        finally:
            watchdog.cancel()
            if ffmpeg.poll() is None:
                ffmpeg.kill()
    samples += len(pending) // 2
    if ffmpeg.returncode != 0 or samples == 0:
        raise UnsupportedMedia("This voice message could not be read.")
    return VoiceSummary(duration=samples / VOICE_RATE, waveform=_bars(peaks))


def _bars(peaks: list[int]) -> list[int]:
    if not peaks:
        return [0] * WAVEFORM_BARS
    loudest = max(peaks) or 1
    bars = []
    for i in range(WAVEFORM_BARS):
        start = i * len(peaks) // WAVEFORM_BARS
        end = max(start + 1, (i + 1) * len(peaks) // WAVEFORM_BARS)
        bars.append(round(100 * max(peaks[start:end]) / loudest) if start < len(peaks) else 0)
    return bars
