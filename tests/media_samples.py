"""Real sample files for the media tests: made on the spot with Pillow and Debian's ffmpeg, so
every test sees genuine JPEG/PNG/WebM/Ogg/PDF bytes (and genuine disguises of them)."""

from __future__ import annotations

import io
import struct
import subprocess
import zlib
from pathlib import Path

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_location(width: int = 640, height: int = 480, orientation: int = 1) -> bytes:
    """A photo carrying EXIF GPS coordinates, a camera make and an orientation flag."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(0, width, 40):  # some detail, so sizes and blurs are not trivial
        image.paste((30, 30, 200), (x, 0, x + 20, height))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def big_jpeg(target_bytes: int, size: tuple[int, int] = (4000, 3000)) -> bytes:
    """A camera-sized photo (12 MP by default) of about ``target_bytes``: a colour gradient
    with grain, the grain's strength searched until the JPEG is that large."""
    gradient = Image.linear_gradient("L").resize(size)
    across = gradient.transpose(Image.Transpose.ROTATE_90).resize(size)
    base = Image.merge("RGB", (gradient, across, Image.new("L", size, 128)))
    low, high = 1.0, 128.0
    best = b""
    for _ in range(8):
        sigma = (low + high) / 2
        grain = Image.effect_noise(size, sigma).convert("RGB")
        image = Image.blend(base, grain, 0.5)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92)
        best = out.getvalue()
        if abs(len(best) - target_bytes) < target_bytes * 0.05:
            break
        low, high = (sigma, high) if len(best) < target_bytes else (low, sigma)
    return best


def png_with_alpha() -> bytes:
    image = Image.new("RGBA", (300, 200), (0, 128, 0, 128))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def pixel_flood_png(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small PNG that declares a gigantic 1-bit image (900 MP): a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_IMAGE = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


def pdf(pages_text: str = "Quarterly report") -> bytes:
    """A minimal, valid one-page PDF."""
    stream = f"BT /F1 12 Tf 72 720 Td ({pages_text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    out += trailer.encode()
    return bytes(out)


def zip_archive() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"\x00" * 5_000_000)  # 5 MB of zeros in ~5 KB
    return out.getvalue()


def _ffmpeg(args: list[str], target: Path) -> bytes:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", *args, str(target)],
        check=True,
        timeout=120,
    )
    return target.read_bytes()


def webm_video(workdir: Path, seconds: float = 2) -> bytes:
    return _ffmpeg(
        ["-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=320x240:rate=10",
         "-c:v", "libvpx", "-b:v", "200k"],
        workdir / "clip.webm",
    )  # fmt: skip


def opus_voice(workdir: Path, seconds: float = 3, container: str = "ogg") -> bytes:
    return _ffmpeg(
        ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "libopus"],
        workdir / f"voice.{container}",
    )


def mp3_audio(workdir: Path, seconds: float = 1) -> bytes:
    return _ffmpeg(
        ["-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}", "-c:a", "libmp3lame"],
        workdir / "song.mp3",
    )
