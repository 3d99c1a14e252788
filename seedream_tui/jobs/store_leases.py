"""The polling leases in the history: which app instance polls which live job (see leases.py for the
instance's side, store_schema._migrate_v2 for the columns)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .store_base import StoreBase
from .store_schema import LIVE_SQL


@dataclass(frozen=True)
class Lease:
    """Who polls a job: the owner and its heartbeat counter."""

    owner: str | None
    beat: int


class LeaseRows(StoreBase):
    def try_claim(self, job_id: int, owner: str, *, expired: Lease | None = None) -> bool:
        """Take the polling lease of a live job: free, already ours, or ``expired`` (the holder and beat
        the caller saw standing still for a whole lease) and unchanged since. Atomic."""
        cond = "poll_owner IS NULL OR poll_owner = ?"
        params: list[Any] = [owner, job_id, owner]
        if expired is not None:
            cond += " OR (poll_owner IS ? AND poll_beat = ?)"
            params += [expired.owner, expired.beat]
        with self._tx() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET poll_owner = ?, poll_beat = poll_beat + 1 WHERE id = ? "
                f"AND status IN ({LIVE_SQL}) AND ({cond})",
                params,
            )
            return cursor.rowcount == 1

    def lease(self, job_id: int) -> Lease | None:
        """The job's lease as it stands (None when the job is gone)."""
        with self._guard() as conn:
            row = conn.execute("SELECT poll_owner, poll_beat FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Lease(row[0], row[1]) if row else None

    def heartbeat(self, owner: str) -> list[int]:
        """Renew every lease ``owner`` holds (one statement, whatever each job is doing). Returns the ids of
        those jobs: the ones ``owner`` may still poll."""
        with self._tx() as conn:
            rows = conn.execute(
                "UPDATE jobs SET poll_beat = poll_beat + 1 WHERE poll_owner = ? RETURNING id", (owner,)
            ).fetchall()
        return [row[0] for row in rows]

    def release_claims(self, owner: str) -> None:
        """Give up every lease ``owner`` holds (on quit) so another instance can poll at once."""
        with self._tx() as conn:
            conn.execute("UPDATE jobs SET poll_owner = NULL WHERE poll_owner = ?", (owner,))

    def lease_owners(self) -> list[str]:
        """Owners holding a lease on a live job (to free those of app instances that died)."""
        with self._tx("DEFERRED") as conn:
            rows = conn.execute(
                f"SELECT DISTINCT poll_owner FROM jobs WHERE poll_owner IS NOT NULL AND status IN ({LIVE_SQL})"
            ).fetchall()
        return [row[0] for row in rows]

