"""Small MP4 files for the video tests, good and bad, made with PyAV in a fraction of a second each."""

from __future__ import annotations

import gzip
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "video"


def make_mp4(path: Path, *, size: tuple[int, int] = (64, 48), frames: int = 16, fps: int = 8,
             pts: list[int] | None = None, time_base: Fraction | None = None) -> Path:
    """An H.264 MP4 of ``frames`` frames (each a different colour) at ``fps``; ``pts`` places them itself."""
    stamps = pts if pts is not None else list(range(frames))
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base or Fraction(1, fps)
        stream.options = {"preset": "ultrafast"}
        container.start_encoding()
        for number, stamp in enumerate(stamps):
            frame = av.VideoFrame.from_image(Image.new("RGB", size, (number * 37 % 256, 90, 200)))
            frame.pts = stamp
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def read(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def good(path: Path) -> bytes:
    return make_mp4(path).read_bytes()


def zero_frames(path: Path) -> bytes:
    return make_mp4(path, frames=0).read_bytes()


def four_hours(path: Path) -> bytes:
    """Two frames four hours apart: a tiny file whose headers say it lasts 4:00:01."""
    return make_mp4(path, fps=1, pts=[0, 4 * 3600], time_base=Fraction(1, 1)).read_bytes()


def frame_16k() -> bytes:
    """One black 15360x8640 frame (390 KB; kept gzipped: 1.4 KB)."""
    return gzip.decompress((FIXTURES / "16k-frame.mp4.gz").read_bytes())


def truncated(path: Path) -> bytes:
    data = good(path)
    return data[: len(data) // 2]


def garbled(path: Path) -> bytes:
    data = bytearray(good(path))
    for i in range(64, len(data), 5):
        data[i] ^= 0x5A
    return bytes(data)


HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Wi-Fi sign-in</body></html>"
