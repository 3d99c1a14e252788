"""Peak memory while six huge images finish at once (`python bench/bench_decode_memory.py`).

Each download is decoded in full before it is accepted (a cut or garbled file must fail there), and its
thumbnail comes from that decode. A 64-megapixel 16-bit PNG (8000x8000, the largest the downloader
accepts) takes 256 MB to decode, so the downloader decodes one image at a time per process. The
bench runs six such decodes at once on a pool of worker threads (as ``asyncio.to_thread`` does when six
jobs finish together), in a fresh process, and prints the peak RSS (``VmHWM``) and the RSS left once
they are done, next to the same process's RSS before it started decoding. Without a fixed mmap threshold
(``jobs.decoding``), each worker's malloc arena kept its decode: 1.7 GB peak, 1.2 GB left.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, figure

CHILD = r"""
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from seedream_tui.jobs.downloads import _decode_fully
def hwm():  # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's peak across exec)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
src = Path(sys.argv[1])
before = hwm()
with ThreadPoolExecutor(6) as pool:
    list(pool.map(lambda i: _decode_fully(src, Path(sys.argv[2]) / f"t{i}.png"), range(6)))
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
print(before, hwm(), rss)
"""


def make_png(path: Path, size: int = 8000) -> None:
    """An 8000x8000 16-bit RGB PNG (Pillow cannot write one: the chunks by hand); a few MB, 256 MB decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(range(256)) * (size * 6 // 256) + bytes(size * 6 % 256)  # filter 0, a ramp
    pack = zlib.compressobj(6)
    body = b"".join(pack.compress(row) for _ in range(size)) + pack.flush()
    header = struct.pack(">IIBBBBB", size, size, 16, 2, 0, 0, 0)  # 16 bits per sample, RGB
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="seedream-decode-") as tmp:
        png = Path(tmp) / "huge16.png"
        make_png(png)
        out = subprocess.run([sys.executable, "-c", CHILD, str(png), tmp], capture_output=True, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, check=True)
        before_kb, peak_kb, left_kb = (int(x) for x in out.stdout.split())
    figure("decode_six_64mp_16bit_peak_rss_mb", peak_kb / 1024, "one image's decode, not six")
    figure("decode_six_rss_left_after_mb", left_kb / 1024, "the baseline")
    figure("decode_baseline_rss_mb", before_kb / 1024)


if __name__ == "__main__":
    main()
