"""How fast is a 100,000-job history? (`python bench/bench_history.py`)

Builds a history in a temp dir with varied, realistic prompts, reopens it as the app
would, and prints one ``history.<measure>=<value>`` line per measure. The numbers
that matter are the per-keystroke ones: first page, counts and searches must stay
within a few milliseconds however big the history grows.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from history_fill import fill_history  # noqa: E402

from seedream_tui.jobs.model import JobStatus  # noqa: E402
from seedream_tui.jobs.store import HistoryStore  # noqa: E402

N_JOBS = 100_000
MODELS = [
    "bytedance/seedream-5/lite/text-to-image",
    "blackforestlabs/flux-2/flash/text-to-image",
    "bytedance/seedream-4/text-to-image",
]
SUBJECTS = """fox cat dog owl whale dragon robot astronaut samurai witch knight mermaid tiger panda
koi phoenix unicorn wolf bear deer lighthouse castle cathedral village city forest mountain
river ocean desert island garden library train bicycle teapot violin cottage spaceship""".split()
ADJECTIVES = """red blue golden silver misty ancient futuristic tiny giant glowing neon rusty
serene stormy cozy whimsical melancholic vibrant pastel dark bright frozen burning""".split()
SCENES = """at sunset|in the rain|under a starry sky|on a snowy hill|in a busy market|beside a lake
|in a foggy forest|on the moon|in a cyberpunk alley|at dawn|in autumn leaves|under cherry blossoms
|inside a glass dome|on a floating island|in a steampunk workshop""".replace("\n", "").split("|")
STYLES = """oil painting|watercolor|photorealistic|35mm film photo|studio ghibli style|ukiyo-e
|low poly 3d render|pencil sketch|isometric illustration|cinematic lighting, 8k|art nouveau poster
|pixel art|macro photography|children's book illustration""".replace("\n", "").split("|")
CHINESE = [
    "一只红色的狐狸在雪地里",
    "夕阳下的古老城堡",
    "雨中的赛博朋克街道",
    "樱花树下的小猫",
    "水墨画风格的山水",
    "漂浮在空中的岛屿",
    "月光下的灯塔",
    "金色的麦田和风车",
]
STATUS_WEIGHTS = [
    (JobStatus.COMPLETED, 88.0),
    (JobStatus.FAILED, 6.0),
    (JobStatus.CANCELLED, 4.0),
    (JobStatus.EXPIRED, 1.0),
    (JobStatus.UNKNOWN, 0.5),
    (JobStatus.QUEUED, 0.3),
    (JobStatus.RUNNING, 0.2),
]
QUERIES = [
    "fox",
    "red fo",
    "golden dragon",
    "sunset",
    "watercolor cat",
    "neon city",
    "ancient castle",
    "photoreal",
    "misty forest",
    "koi",
    "pixel art robot",
    "cherry blossoms",
    "steampunk",
    "frozen lighthouse",
    "teapot",
    '"violin',
    "whale AND moon",
    "cyberpunk -alley",
    "(panda",
    "狐狸",
]


def make_jobs(rng: random.Random) -> Iterator[tuple[str, dict[str, Any], JobStatus, float]]:
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    start = time.time() - 365 * 86400
    for i in range(N_JOBS):
        if rng.random() < 0.05:
            prompt = rng.choice(CHINESE) + "，" + rng.choice(STYLES)
        else:
            prompt = (
                f"a {rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} {rng.choice(SCENES)}, "
                f"{rng.choice(STYLES)}, {rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} in the background"
            )
        inputs = {
            "prompt": prompt,
            "size": rng.choice(["2048*2048", "1024*1024", "2304*1728"]),
            "seed": rng.randrange(2**31),
        }
        status = rng.choices(statuses, weights)[0]
        yield rng.choice(MODELS), inputs, status, start + i * 300.0


def ms(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def report(name: str, value: float) -> None:
    print(f"history.{name}={value:.2f}", flush=True)


def main() -> None:
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite3"
        store = HistoryStore(path)
        t0 = time.perf_counter()
        fill_history(store, make_jobs(random.Random(42)))
        report("bulk_insert_100k_s", time.perf_counter() - t0)
        store.close()
        report("db_size_mb", path.stat().st_size / 1e6)

        t0 = time.perf_counter()
        store = HistoryStore(path)
        page = store.list_jobs(limit=50)
        report("open_first_page_ms", (time.perf_counter() - t0) * 1000)
        assert len(page) == 50
        report("next_page_ms", ms(lambda: store.list_jobs(limit=50, before_id=page[-1].id)))
        report("deep_page_ms", ms(lambda: store.list_jobs(limit=50, before_id=N_JOBS // 2)))
        report("count_all_ms", ms(store.count_jobs))
        report(
            "count_status_model_ms",
            ms(lambda: store.count_jobs(statuses=[JobStatus.FAILED], model_id=MODELS[1])),
        )
        report("filter_status_page_ms", ms(lambda: store.list_jobs(statuses=[JobStatus.FAILED])))
        report("filter_rare_status_page_ms", ms(lambda: store.list_jobs(statuses=[JobStatus.RUNNING])))
        report(
            "filter_multi_status_page_ms",
            ms(lambda: store.list_jobs(statuses=[JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED])),
        )
        report("filter_model_page_ms", ms(lambda: store.list_jobs(model_id=MODELS[2])))
        week = time.time() - 30 * 86400
        report("filter_since_page_ms", ms(lambda: store.list_jobs(since=week)))
        report("count_since_ms", ms(lambda: store.count_jobs(since=week)))
        report("live_jobs_ms", ms(store.live_jobs))

        search_times = [ms(lambda q=q: store.list_jobs(search=q)) for q in QUERIES]  # type: ignore[misc]
        median = statistics.median(search_times)
        print(f"history.fts_search_median_ms={median:.2f}  (target ≤ 30 ms median)", flush=True)
        report("fts_search_max_ms", max(search_times))
        count_times = [ms(lambda q=q: store.count_jobs(search=q)) for q in QUERIES]  # type: ignore[misc]
        report("fts_count_median_ms", statistics.median(count_times))
        report(
            "fts_search_filtered_ms",
            ms(lambda: store.list_jobs(search="fox", statuses=[JobStatus.FAILED], model_id=MODELS[0])),
        )
        report("cjk_search_2char_ms", ms(lambda: store.list_jobs(search="狐狸")))
        report("cjk_search_long_ms", ms(lambda: store.list_jobs(search="古老城堡")))
        report("recent_prompts_ms", ms(lambda: store.recent_prompts(50)))
        report("model_ids_ms", ms(store.model_ids))
        job = store.create_job(MODELS[0], {"prompt": "one more red fox"})
        report("update_job_ms", ms(lambda: store.update_job(job.id, status=JobStatus.QUEUED, request_id="r")))
        store.close()
    report("total_s", time.perf_counter() - t_start)


if __name__ == "__main__":
    main()
