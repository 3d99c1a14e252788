"""``PositionBoard`` (the job table's queue positions, one job at a time) always agrees with the module's rule
(written out plainly below) and with ``consistent_positions`` over the same jobs, and reports every job whose
shown position changed."""

from __future__ import annotations

import dataclasses
import random

from seedream_tui.jobs.model import Job, JobStatus
from seedream_tui.jobs.positions import PositionBoard, consistent_positions, shown_position

STATUSES = [JobStatus.QUEUED] * 4 + [JobStatus.RUNNING, JobStatus.COMPLETED, JobStatus.FAILED]
POSITIONS = [None, -1, 0, 1, 1, 2, 2, 3, 5, 10**6]


def _rule(jobs: list[Job]) -> dict[int, str]:
    """The rule as the module states it: per plausible position, the queued job updated last (then the higher id)."""
    freshest: dict[str, Job] = {}
    for job in jobs:
        text = shown_position(job.queue_position) if job.status is JobStatus.QUEUED else None
        if text is not None and (text not in freshest or (job.updated_at, job.id) > (freshest[text].updated_at,
                                                                                   freshest[text].id)):
            freshest[text] = job
    return {job.id: text for text, job in freshest.items()}


def _job(job_id: int, rng: random.Random, t: float) -> Job:
    return Job(id=job_id, model_id="m", inputs={"prompt": "p"}, status=rng.choice(STATUSES), created_at=0.0,
               updated_at=t, queue_position=rng.choice(POSITIONS))


def test_the_board_agrees_with_the_rule_through_random_polls_and_deletions() -> None:
    for seed in range(20):
        rng = random.Random(seed)
        board, jobs = PositionBoard(), {}
        for step in range(400):
            job_id = rng.randrange(30)
            if jobs and rng.random() < 0.05:
                gone = rng.choice(sorted(jobs))
                before = dict(board.shown)
                changed = board.remove(gone)
                del jobs[gone]
            else:
                # updated_at sometimes equal (ties go to the larger id), sometimes older than before
                t = float(rng.choice([step, step, step - 3, 7]))
                job = _job(job_id, rng, t)
                before = dict(board.shown)
                changed = board.update(job)
                jobs[job_id] = job
            expected = _rule(list(jobs.values()))
            assert board.shown == expected, (seed, step)
            assert consistent_positions(jobs.values()) == expected, (seed, step)
            moved = {i for i in set(before) | set(expected) if before.get(i) != expected.get(i)}
            assert moved <= changed, (seed, step)  # every job whose text changed is reported


def test_a_job_that_leaves_the_queue_hands_its_position_to_the_next_freshest() -> None:
    board = PositionBoard()
    a = Job(id=1, model_id="m", inputs={}, status=JobStatus.QUEUED, created_at=0, updated_at=5, queue_position=1)
    b = dataclasses.replace(a, id=2, updated_at=3)
    board.update(a)
    assert board.update(b) == set() and board.shown == {1: "1"}  # b's claim is staler: not shown
    assert board.update(dataclasses.replace(a, status=JobStatus.RUNNING, queue_position=None)) == {1, 2}
    assert board.shown == {2: "1"}
