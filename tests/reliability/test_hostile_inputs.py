"""Issue 19 §3, what the app reads from the user: capped, regular files only, pixels checked before decoding.

- ``submit -`` and ``token`` read a bounded amount from stdin: ``/dev/zero`` or a 300 KB prompt is refused with
  a sentence (before: read until MemoryError; a 67 MB prompt was submitted and stored).
- An image input that is ``/dev/zero`` or a FIFO is refused before a byte is read (before: MemoryError, and a
  FIFO blocked ``submit`` for ever); a decompression-bomb PNG is a sentence at the field (before: "unexpected
  error", or a raw Python warning), and so is its thumbnail in the options panel.
- Decoding six 16-bit PNGs one after the other in worker threads (as six finishing jobs do) stays within
  about one decode's memory (before: each worker's malloc arena kept its decode).

The CLI runs as a user runs it, in a subprocess with its address space limited (a regression reads until
MemoryError quickly instead of filling the machine) and a time limit (a FIFO that blocks fails the test).
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from bad_input_support import (
    REPO,
    TOKEN,
    assert_intact,
    fast_fake_server,
    fingerprint,
    home_paths,
    seeded_home,
)

from seedream_tui.fake.server import FakeServerThread

EXIT_INPUT = 2
#: no test here waits this long unless the code is broken (a FIFO blocked for ever)
PATIENCE = 60.0
#: the CLI's address space: far more than it needs, far less than the machine (a read of /dev/zero ends in
#: MemoryError within a second instead of taking the machine's memory)
ADDRESS_SPACE = 3 * 2**30
EDIT_SCHEMA = {"model_id": "acme/edit", "display_name": "Edit", "input_schema": {"type": "object", "properties": {
    "prompt": {"type": "string"}, "image": {"type": "string", "format": "image_uri", "title": "Image"}}}}  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[FakeServerThread]:
    with fast_fake_server(19) as fake:
        yield fake


@pytest.fixture
def home(isolated_home: Path, server: FakeServerThread) -> Iterator[Path]:
    with seeded_home(isolated_home, server) as home:
        models = home_paths(home).user_models_dir
        models.mkdir(parents=True, exist_ok=True)
        (models / "acme-edit.json").write_text(json.dumps(EDIT_SCHEMA), encoding="utf-8")
        yield home


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(home: Path, *args: str, stdin: object = None, stdin_bytes: bytes | None = None) -> tuple[int, str]:
    """``python -m seedream_tui ARGS`` with its own home; (exit code, stderr); never a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNCOMFY_")}
    env.update({"SEEDREAM_TUI_HOME": str(home), "RUNCOMFY_API_TOKEN": TOKEN, "PYTHONUTF8": "1"})
    proc = subprocess.run(
        [sys.executable, "-m", "seedream_tui", *args], stdin=stdin if stdin_bytes is None else None,
        input=stdin_bytes, capture_output=True, env=env, cwd=REPO, timeout=PATIENCE, preexec_fn=_limit_memory,
    )
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert "Warning" not in err, err  # no raw Python warning (DecompressionBombWarning) reaches the user
    return proc.returncode, err


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` pixels, in a few hundred bytes (nothing decodes it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 4096)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


# ------------------------------------------------------------------------------------------ stdin, capped
def test_a_prompt_from_dev_zero_is_refused_with_a_sentence(home: Path, server: FakeServerThread) -> None:
    before = fingerprint(home)
    with open("/dev/zero", "rb") as zero:
        code, err = run(home, "submit", "-", "--base-url", server.base_url, stdin=zero)
    assert code == EXIT_INPUT, err
    assert "The prompt on stdin is longer than 256 KiB, far more than a prompt; nothing was submitted." in err
    assert_intact(home, before)


def test_a_huge_prompt_on_stdin_is_not_submitted(home: Path, server: FakeServerThread) -> None:
    before = fingerprint(home)
    code, err = run(home, "submit", "-", "--base-url", server.base_url, stdin_bytes=b"a fox in the snow " * 20_000)
    assert code == EXIT_INPUT and "The prompt on stdin is longer than 256 KiB" in err, err
    assert_intact(home, before)  # no row: the history did not grow by the prompt


def test_a_token_from_dev_zero_is_refused_and_the_saved_one_kept(home: Path) -> None:
    token_file = home_paths(home).token_file
    saved = token_file.read_bytes()
    with open("/dev/zero", "rb") as zero:
        code, err = run(home, "token", stdin=zero)
    assert code == EXIT_INPUT, err
    assert "longer than 4096 bytes with no line end: that is not a RunComfy token, so nothing was saved." in err
    assert token_file.read_bytes() == saved


# ------------------------------------------------------------------------------------------ image inputs
def test_an_image_input_that_is_a_device_or_a_fifo_is_refused_at_once(home: Path, server: FakeServerThread,
                                                                        tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    before = fingerprint(home)
    for source in ("/dev/zero", str(fifo)):
        code, err = run(home, "submit", "a fox", "--model", "acme/edit", "--set", f"image={source}",
                        "--base-url", server.base_url)
        assert code == EXIT_INPUT, err
        assert f"Image: {source} is not a regular file (a device, a pipe or a socket), so it is not read" in err
    assert_intact(home, before)


@pytest.mark.parametrize(("size", "claim"), [(30000, "900 megapixels"), (12000, "12000x12000 pixels")])
def test_a_decompression_bomb_image_input_is_a_sentence(size: int, claim: str, home: Path, server: FakeServerThread,
                                                        tmp_path: Path) -> None:
    bomb = bomb_png(tmp_path / "bomb.png", size, size)
    before = fingerprint(home)
    code, err = run(home, "submit", "a fox", "--model", "acme/edit", "--set", f"image={bomb}",
                    "--base-url", server.base_url)
    assert code == EXIT_INPUT, err
    assert f"Image: {bomb} has {claim}, more than the 64 megapixels this app decodes: scale it down first." in err
    assert_intact(home, before)


def test_the_fields_thumbnails_never_block_nor_decode_a_bomb(tmp_path: Path) -> None:
    from seedream_tui.tui.widgets.media_field import _thumbnails

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    bomb = str(bomb_png(tmp_path / "bomb.png", 30000, 30000))
    items = ["/dev/zero", str(fifo), bomb, str(tmp_path)]
    shown: list[object] = []
    worker = threading.Thread(target=lambda: shown.extend(_thumbnails(items, items)), daemon=True)
    worker.start()
    worker.join(PATIENCE)
    try:
        assert not worker.is_alive(), "the thumbnail thread is blocked on the FIFO"
    finally:
        if worker.is_alive():  # release it: a writer comes and goes
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert shown == ["not a file", "not a file", "too many pixels", "a folder"]


# ------------------------------------------------------------------------------------------ decode memory
DECODE_CHILD = r"""
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from seedream_tui.jobs.downloads import _decode_fully
def status(key):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(key + ":"))
src, out = Path(sys.argv[1]), Path(sys.argv[2])
_decode_fully(src, out / "warm.png")  # imports and first-use allocations out of the way
before = status("VmRSS")
with ThreadPoolExecutor(6) as pool:  # as asyncio.to_thread hands six finishing jobs to its workers
    list(pool.map(lambda i: _decode_fully(src, out / f"t{i}.png"), range(6)))
print(before, status("VmHWM"), status("VmRSS"))
"""


def rgb16_png(path: Path, size: int) -> Path:
    """A 16-bit RGB PNG (Pillow cannot write one): a few hundred KB, ``size``² x 4 bytes decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(range(256)) * (size * 6 // 256) + bytes(size * 6 % 256)
    pack = zlib.compressobj(6)
    body = b"".join(pack.compress(row) for _ in range(size)) + pack.flush()
    header = struct.pack(">IIBBBBB", size, size, 16, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_six_large_decodes_stay_within_about_one(tmp_path: Path) -> None:
    png = rgb16_png(tmp_path / "big16.png", 4000)  # 16 megapixels: 64 MB decoded
    one = 4000 * 4000 * 4 / 2**20
    proc = subprocess.run([sys.executable, "-c", DECODE_CHILD, str(png), str(tmp_path)], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=PATIENCE * 3)
    assert proc.returncode == 0, proc.stderr
    before, peak, after = (int(x) / 1024 for x in proc.stdout.split())
    # before: each worker thread's malloc arena kept its decode (~6 x 64 MB, and a full-size copy on top)
    assert peak - before < 2.2 * one, (before, peak, after)
    assert after - before < 0.5 * one, (before, peak, after)


def test_a_preview_of_a_huge_image_is_refused_before_decoding(tmp_path: Path) -> None:
    """The TUI's preview decode checks pixels first (a ValueError its callers show), with no raw warning."""
    import warnings

    from seedream_tui.jobs.decoding import TooManyPixels
    from seedream_tui.tui import thumbs

    bomb = bomb_png(tmp_path / "huge.png", 12000, 12000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a DecompressionBombWarning would fail here
        with pytest.raises(TooManyPixels, match="has 12000x12000 pixels"):
            thumbs._decode(str(bomb), (800, 600))
