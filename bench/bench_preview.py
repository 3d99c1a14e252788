"""Job completed → its preview drawn, for a 2304x1728 PNG, without the download (`python bench/bench_preview.py`).

In-process through Textual's Pilot (headless, 200x50) with a real ``Core``. Each run: a job is shown
RUNNING and selected in the main screen's job table; its 2304x1728 PNG is already on disk (the download is
over); then the core reports it COMPLETED (``engine.announce``, exactly what the engine calls after the
download) and the clock runs until the first frame in which the preview widget holds the decoded image.
That covers the app's message hop, the decode + shrink in a thread, and the widget refresh.

A second figure starts earlier, when the downloaded file is complete: it also counts the small thumbnail
the downloader writes (from the full image) before it reports the job COMPLETED.

Every run uses a different file (no cache can help). Median of ``RUNS`` per image mode (halfcell is what
tmux/SSH get; sixel encodes far more data per frame).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _common import figure, temp_home
from _tui_common import FrameWatch, bench_config, make_pngs

RUNS = 10
MODES = sys.argv[1:] or ["halfcell", "sixel"]


async def run(mode: str, pngs: list[Path]) -> tuple[list[float], list[float]]:
    from seedream_tui.jobs.model import JobStatus, OutputFile
    from seedream_tui.tui import images
    from seedream_tui.tui.app import SeedreamApp
    from seedream_tui.tui.screens.main import MainScreen

    images.configure(mode)
    app = SeedreamApp(bench_config())
    reported, from_file = [], []
    async with app.run_test(size=(200, 50)):
        watch = FrameWatch(app)
        await watch.wait(lambda: isinstance(app.screen, MainScreen) and app.screen.is_mounted)
        main = app.screen
        assert isinstance(main, MainScreen) and app.core is not None
        core: Any = app.core
        model = core.registry.default().model_id
        for i, png in enumerate(pngs[:RUNS]):
            job = await core.history.create_job(model, {"prompt": f"preview bench {mode} {i}"})
            done = await core.history.update_job(job.id, status=JobStatus.COMPLETED, finished_at=time.time())
            running = done.evolve(status=JobStatus.RUNNING, outputs=())
            watch.arm(lambda job_id=job.id: job_id in main.table.jobs)
            core.engine.announce(running)
            await watch.fired()
            main.table.select_job(job.id)
            await watch.wait(lambda job_id=job.id: main.preview.job is not None and main.preview.job.id == job_id)

            t_file = time.perf_counter()  # the download is complete; the downloader now writes its thumbnail
            thumb = await asyncio.to_thread(core.engine.downloader._make_thumb, png)
            output = OutputFile(0, f"https://cdn.example/{png.name}", str(png), 2304, 1728, "png",
                                png.stat().st_size, str(thumb) if thumb else None)
            done = await core.history.set_outputs(job.id, [output])

            def drawn(path: str = str(png)) -> bool:
                image = main.preview.query("#preview-image")
                return main.preview.shown_path == path and bool(image) and image.first().image is not None

            watch.arm(drawn)
            t0 = time.perf_counter()
            core.engine.announce(done)
            t_drawn = await watch.fired()
            reported.append((t_drawn - t0) * 1000)
            from_file.append((t_drawn - t_file) * 1000)
    return reported, from_file


def main() -> None:
    t_start = time.perf_counter()
    home = temp_home()
    pngs = make_pngs(Path(home) / "pngs", RUNS * len(MODES))
    for n, mode in enumerate(MODES):
        reported, from_file = asyncio.run(run(mode, pngs[n * RUNS :]))
        figure(f"preview.{mode}.completed_to_drawn_median_ms", statistics.median(reported), "≤ 200 ms median")
        figure(f"preview.{mode}.file_written_to_drawn_median_ms", statistics.median(from_file))
        print(f"# {mode} runs ms: {[round(x) for x in reported]} / with thumbnail step {[round(x) for x in from_file]}")
    figure("preview.total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
