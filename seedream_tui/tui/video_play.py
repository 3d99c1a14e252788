"""Playing a video in the viewer: frames decoded as they are shown, in a worker thread.

:class:`Playback` runs in a thread of its own (a Textual thread worker): it decodes one frame at a time
(:class:`jobs.video.FramePlayer`; never the whole video in memory), scales it to the stage's pixel size and
hands it to the screen (``deliver``, which runs on the event loop and returns when the frame is on the
widget: a terminal slower than the video holds the decoder back instead of piling frames up). It keeps to
the video's clock: frames it has no time to show are decoded but neither scaled nor sent. The screen sends
commands (play/pause, step, seek, loop, a new size, stop) through a queue; ``stop`` ends it at once (the
thread waits on that queue, never in a sleep), and the file is closed when it ends.

The frame rate drawn is at most :func:`terminal_fps` (the ``video_fps`` setting; lower by default over SSH,
where every frame crosses the network as text).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from seedream_tui.jobs.video import FramePlayer, VideoProblem, scaled

#: frames per second drawn at most, by default: locally, and over SSH (halfcell at 200x60 is ~100 KB a frame)
LOCAL_FPS, SSH_FPS = 15, 8
#: seconds one left/right press moves
SEEK_SECONDS = 5.0


def terminal_fps(setting: int | None, env: Mapping[str, str]) -> int:
    """The ``video_fps`` setting, else :data:`SSH_FPS` over SSH and :data:`LOCAL_FPS` elsewhere."""
    if setting:
        return max(1, min(60, int(setting)))
    return SSH_FPS if env.get("SSH_CONNECTION") or env.get("SSH_TTY") else LOCAL_FPS


@dataclass(frozen=True)
class Frame:
    index: int  # the frame's number in the video (from 0)
    time: float  # seconds from the start
    image: Any  # PIL image, fitted to the stage
    playing: bool
    #: what ``prepare`` made of the image in the decoding thread (the halfcell lines), or None
    lines: Any = None


class Playback:
    """One video being played; ``run`` in a thread, the other methods from the event loop."""

    def __init__(self, path: str, box: tuple[int, int], deliver: Callable[[Frame], None], *, max_fps: int,
                 loop: bool = False, prepare: Callable[[Any], Any] | None = None) -> None:
        self.path = path
        self.prepare = prepare
        self.box = box
        self.deliver = deliver
        self.max_fps = max(1, max_fps)
        self.loop = loop
        self.playing = True
        self.commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        #: set once the thread has ended and the file is closed
        self.ended = threading.Event()
        self.stopping = False
        #: what the video is (known once ``run`` opened it), where it is, and frames sent/decoded
        self.duration = 0.0
        self.fps = 0.0
        self.index = -1
        self.time = 0.0
        self.sent = 0
        self.decoded = 0
        self.error: str | None = None
        self._sent_at = 0.0

    # ------------------------------------------------------------------ from the event loop
    def send(self, command: str, value: Any = None) -> None:
        if command == "stop":
            self.stopping = True
        self.commands.put((command, value))

    def stop(self) -> None:
        self.send("stop")

    # ------------------------------------------------------------------ the thread
    def run(self) -> None:
        try:
            player = FramePlayer(self.path)
        except VideoProblem as exc:
            self.error = f"The video {exc}."
            self.ended.set()
            return
        try:
            self.duration, self.fps = player.duration, player.fps
            self._play(player)
        except (self._av_error(), OSError, ValueError) as exc:  # a damaged middle, the file gone: a sentence
            self.error = f"The video stopped at {self.time:.1f} s: {' '.join(str(exc).split())[:160]}."
        finally:
            player.close()
            self.ended.set()

    @staticmethod
    def _av_error() -> type[BaseException]:
        import av

        return av.error.FFmpegError

    def _interval(self) -> float:
        return 1.0 / min(self.fps or 24.0, float(self.max_fps))

    def _play(self, player: FramePlayer) -> None:
        # the video's clock: ``origin`` is the wall time at which video time 0 would have been shown
        origin = time.monotonic()
        self._show_next(player)
        origin = time.monotonic() - max(0.0, self.time)
        while not self.stopping:
            if self.playing:
                # the next frame of the video is due, and the terminal's frame rate allows another
                due = max(origin + self.time + 1.0 / (self.fps or 24.0), self._sent_at + self._interval())
                wait = max(0.0, due - time.monotonic())
            else:
                wait = None
            try:
                command, value = self.commands.get(timeout=wait)
            except queue.Empty:
                command, value = "tick", None
            if command == "stop":
                return
            if command == "tick":
                self._sent_at = time.monotonic()  # the frame period counts from here: decoding is part of it
                if not self._advance(player, time.monotonic() - origin):
                    if self.loop:
                        player.seek(0.0)
                        self._show_next(player)
                        origin = time.monotonic()
                    else:
                        self.playing = False
                        self._send_current(player)
                continue
            if command == "play":
                self.playing = bool(value) if value is not None else not self.playing
                if self.playing and self.duration and self.time >= self.duration - 1.5 / (self.fps or 24):
                    player.seek(0.0)  # play again from the start
                    self._show_next(player)
                origin = time.monotonic() - max(0.0, self.time)
                self._send_current(player)
            elif command == "loop":
                self.loop = bool(value)
            elif command == "step":
                self.playing = False
                if value < 0:
                    player.seek(max(0.0, self.time - 1.0 / (self.fps or 24)))
                if not self._show_next(player):
                    self._send_current(player)
            elif command == "seek":
                player.seek(max(0.0, min(self.duration, self.time + float(value))))
                self._show_next(player)
                origin = time.monotonic() - max(0.0, self.time)
            elif command == "box":
                self.box = value
                if not self.playing:
                    self._send_current(player)

    def _advance(self, player: FramePlayer, clock: float) -> bool:
        """Decode up to the frame due at ``clock`` seconds (those before it are skipped) and send it;
        False at the end of the video."""
        frame = None
        while True:
            got = player.next_raw()
            if got is None:
                return False if frame is None else self._send(player, frame)
            self.decoded += 1
            frame = got
            if player.time + 1.0 / (player.fps or 24) > clock or self.stopping:
                return self._send(player, frame)

    def _show_next(self, player: FramePlayer) -> bool:
        frame = player.next_raw()
        if frame is None:
            return False
        self.decoded += 1
        return self._send(player, frame)

    def _send_current(self, player: FramePlayer) -> None:
        """Send the frame at the current time again (paused and resized, or the state changed)."""
        at = self.time
        player.seek(at)
        frame = player.next_raw()
        if frame is not None:
            self._send(player, frame)

    def _send(self, player: FramePlayer, frame: Any) -> bool:
        if self.stopping:
            return True
        self.index, self.time = player.index, player.time
        image = scaled(frame, self.box)
        lines = self.prepare(image) if self.prepare is not None else None
        try:
            self.deliver(Frame(self.index, self.time, image, self.playing, lines))
        except RuntimeError:  # the app is gone (shut down while playing)
            self.stopping = True
            return True
        self.sent += 1
        return True
