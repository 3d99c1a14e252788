"""The history preview shows a sound (or another file) by its kind card, never decoding it as an image
(issue 22: outputs that are neither image nor video are listed with their kind)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from seedream_tui.jobs.model import Job, JobStatus, OutputFile
from seedream_tui.tui.widgets import job_preview
from seedream_tui.tui.widgets.job_preview import JobPreview


class PreviewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield JobPreview(id="preview")


def _job(output: OutputFile) -> Job:
    return Job(1, "some/audio-model", {"prompt": "a cat purring"}, JobStatus.COMPLETED, 1.0, 2.0,
               finished_at=2.0, outputs=(output,))


async def test_a_sound_in_the_history_preview_is_its_kind_card_not_a_decoded_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sound = tmp_path / "purr.mp3"
    sound.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 2000)
    decoded: list[Any] = []
    monkeypatch.setattr(job_preview, "_decode_thumbnail", lambda *args, **kw: decoded.append(args))
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(JobPreview)
        preview.show(_job(OutputFile(0, "https://cdn.example/purr.mp3", str(sound), format="mp3", size=2010,
                                     kind="audio", duration=3.0)))
        await pilot.pause()
        await app.workers.wait_for_complete()
        shown = str(preview.query_one("#preview-placeholder", Static).render())
        assert shown.startswith("Sound · mp3 · ") and str(sound) in shown
        assert "audio 1:" in str(preview.query_one("#preview-info", Static).render())
        assert decoded == [] and not preview.has_class("-has-image")
        # another kind of file: its card too
        other = tmp_path / "notes.bin"
        other.write_bytes(b"\x00" * 10)
        preview.show(_job(OutputFile(0, "https://cdn.example/notes.bin", str(other), format="bin", size=10,
                                     kind="file")))
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert str(preview.query_one("#preview-placeholder", Static).render()).startswith("File · ")
        assert decoded == []
