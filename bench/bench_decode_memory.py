"""Peak memory while six huge images finish at once (`python bench/bench_decode_memory.py`).

Each download is decoded in full before it is accepted (a cut or garbled file must fail there), and its
thumbnail comes from that decode. A 64-megapixel 16-bit PNG (8000x8000, the largest the downloader
accepts) takes hundreds of MB to decode, so the downloader decodes one image at a time per process. The
bench runs six such decodes at once on threads, as six finishing jobs would, in a fresh process, and
prints the peak RSS (``VmHWM``) next to the same process's RSS before it started decoding.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, figure

CHILD = r"""
import sys, threading
from pathlib import Path
from seedream_tui.jobs.downloads import _decode_fully
def hwm():  # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's peak across exec)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
src = Path(sys.argv[1])
before = hwm()
threads = [threading.Thread(target=_decode_fully, args=(src, Path(sys.argv[2]) / f"t{i}.png")) for i in range(6)]
for t in threads: t.start()
for t in threads: t.join()
print(before, hwm())
"""


def make_png(path: Path) -> None:
    from PIL import Image

    gradient = Image.linear_gradient("L").resize((8000, 8000))
    gradient.convert("I").point(lambda v: v * 257).convert("I;16").save(path, "PNG", compress_level=1)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="seedream-decode-") as tmp:
        png = Path(tmp) / "huge16.png"
        make_png(png)
        out = subprocess.run([sys.executable, "-c", CHILD, str(png), tmp], capture_output=True, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, check=True)
        before_kb, peak_kb = (int(x) for x in out.stdout.split())
    figure("decode_six_64mp_16bit_peak_rss_mb", peak_kb / 1024, "one image's decode, not six")
    figure("decode_baseline_rss_mb", before_kb / 1024)


if __name__ == "__main__":
    main()
