"""Edit chains in the history: which jobs' results a job took as inputs."""

from __future__ import annotations

from collections.abc import Sequence

from .store_base import StoreBase


class LineageRows(StoreBase):
    def set_parents(self, job_id: int, parents: Sequence[int]) -> None:
        """Record which jobs' results ``job_id`` took as inputs (an edit chain), in order."""
        with self._tx() as conn:
            conn.execute("DELETE FROM job_parents WHERE job_id = ?", (job_id,))
            conn.executemany(
                "INSERT INTO job_parents (job_id, parent_id, position) VALUES (?, ?, ?)",
                [(job_id, parent, position) for position, parent in enumerate(parents)],
            )

    def parents(self, job_id: int) -> list[int]:
        with self._guard() as conn:
            rows = conn.execute("SELECT parent_id FROM job_parents WHERE job_id = ? ORDER BY position", (job_id,))
            return [row[0] for row in rows]

    def chain(self, job_id: int, limit: int = 50) -> list[int]:
        """The job's ancestry through first parents, oldest first, ending with ``job_id`` (``#12 → #15 → #18``)."""
        with self._guard() as conn:
            rows = conn.execute(
                """
                WITH RECURSIVE up(id, depth) AS (
                    SELECT ?, 0
                    UNION ALL
                    SELECT p.parent_id, up.depth + 1 FROM job_parents p JOIN up ON p.job_id = up.id
                    WHERE p.position = 0 AND up.depth < ?
                )
                SELECT id FROM up ORDER BY depth DESC
                """,
                (job_id, limit),
            ).fetchall()
        return [row[0] for row in rows]

    def chain_kinds(self, job_id: int, limit: int = 50) -> list[tuple[int, str | None]]:
        """:meth:`chain` with what each step made when it is not images (``"video"``, ``"audio"``; None for
        images, files or nothing yet), for a chain of mixed kinds (``#12 → #31 ▶``)."""
        steps = self.chain(job_id, limit)
        if not steps:
            return []
        with self._guard() as conn:
            marks = ",".join("?" * len(steps))
            rows = conn.execute(
                f"SELECT job_id, kind FROM outputs WHERE job_id IN ({marks}) AND kind IN ('video', 'audio') "
                "ORDER BY job_id, idx",
                steps,
            ).fetchall()
        kinds: dict[int, str] = {}
        for step, kind in rows:
            kinds.setdefault(step, kind)
        return [(step, kinds.get(step)) for step in steps]

    def derived_from(self, job_id: int) -> list[int]:
        """Every job made from ``job_id``'s results, directly or down a chain, oldest first."""
        with self._guard() as conn:
            rows = conn.execute(
                """
                WITH RECURSIVE down(id) AS (
                    SELECT job_id FROM job_parents WHERE parent_id = ?
                    UNION
                    SELECT p.job_id FROM job_parents p JOIN down ON p.parent_id = down.id
                )
                SELECT id FROM down ORDER BY id
                """,
                (job_id,),
            ).fetchall()
        return [row[0] for row in rows]

