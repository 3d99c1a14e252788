"""``seedream-tui view ID`` (issue 22) and the viewer's frame-rate setting."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from seedream_tui import cli
from seedream_tui.config import load_settings
from seedream_tui.paths import Paths
from seedream_tui.tui.video_play import LOCAL_FPS, SSH_FPS, terminal_fps

sys.path.insert(0, str(Path(__file__).resolve().parent / "tui"))
from video_support import seed_video_job  # noqa: E402


def test_view_id_opens_the_viewer_on_that_job(monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = seed_video_job(Paths.default())
    seen: list[Any] = []
    monkeypatch.setattr("seedream_tui.tui.view_app.run_view",
                        lambda config, job, image_mode=None: seen.append((job, image_mode)) or 0)
    assert cli.main(["view", str(job_id), "--image-mode", "halfcell"]) == 0
    [(job, mode)] = seen
    assert job.id == job_id and job.outputs[0].kind == "video" and mode == "halfcell"
    assert cli.main(["view", f"req-video-{job_id}"]) == 0  # a request id too
    assert seen[-1][0].id == job_id


def test_view_of_an_unknown_job_or_one_without_files_is_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["view", "404"]) == 2
    err = capsys.readouterr().err
    assert "No job '404' in the history." in err and "Traceback" not in err


def test_the_frame_rate_is_a_setting_lower_over_ssh(tmp_path: Path) -> None:
    assert terminal_fps(None, {}) == LOCAL_FPS
    assert terminal_fps(None, {"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}) == SSH_FPS < LOCAL_FPS
    assert terminal_fps(24, {"SSH_TTY": "/dev/pts/1"}) == 24
    paths = Paths.default()
    paths.settings_file.parent.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text("video_fps = 10\n")
    settings, warnings = load_settings(paths)
    assert settings.video_fps == 10 and warnings == []
    paths.settings_file.write_text("video_fps = 0\n")
    settings, warnings = load_settings(paths)
    assert settings.video_fps is None and "video_fps = 0 is not valid" in warnings[0]
