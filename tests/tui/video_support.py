"""A finished video job in the history (a real moving MP4 made by the fake's renderer), for the TUI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seedream_tui.fake.videos import render_video
from seedream_tui.jobs.model import JobStatus, OutputFile
from seedream_tui.jobs.store import HistoryStore
from seedream_tui.jobs.video import inspect_video, save_poster, write_tags

VIDEO_MODEL = "bytedance/seedance-1/lite/text-to-video"
SEED_TIME = 1768467600.0


def make_video(path: Path, *, seconds: int = 5, fps: int = 8, size: tuple[int, int] = (96, 54),
               prompt: str = "a paper boat drifting on a pond") -> OutputFile:
    """Render a real video to ``path`` and return the output the downloader would have recorded."""
    render_video(path, key=path.name, size=size, seconds=seconds, fps=fps, prompt=prompt)
    write_tags(path, {"prompt": prompt, "model_id": VIDEO_MODEL})
    info = inspect_video(path)
    thumb = path.with_suffix(".poster.png")
    assert info.poster is not None and save_poster(info.poster, thumb, (1024, 1024))
    return OutputFile(0, f"https://cdn.example/{path.name}", str(path), info.width, info.height, "mp4",
                      path.stat().st_size, str(thumb), kind="video", duration=info.duration, fps=info.fps)


def seed_video_job(paths: Any, **video: Any) -> int:
    """One finished video job (the newest in the history); returns its id."""
    paths.profile_data_dir.mkdir(parents=True, exist_ok=True)
    paths.images_dir.mkdir(parents=True, exist_ok=True)
    output = make_video(paths.images_dir / "clip-0.mp4", **video)
    store = HistoryStore(paths.history_db)
    try:
        prompt = video.get("prompt", "a paper boat drifting on a pond")
        job = store.create_job(VIDEO_MODEL, {"prompt": prompt, "duration": 5}, base_url="http://127.0.0.1:9",
                               now=SEED_TIME + 3600)
        store.set_outputs(job.id, [output])
        store.update_job(job.id, status=JobStatus.COMPLETED, request_id=f"req-video-{job.id}",
                         submitted_at=SEED_TIME + 3601, started_at=SEED_TIME + 3603, finished_at=SEED_TIME + 3660,
                         updated_at=SEED_TIME + 3661)
    finally:
        store.close()
    return job.id
