"""Turning the history's filters into SQL, and rows back into :class:`Job`.

Search text comes straight from a search box, keystroke by keystroke, so it is
never passed to FTS5 as query syntax: every word becomes a quoted FTS5 string
(``AND``, ``-``, ``*``, ``(`` and quotes lose their meaning) and the last word is a
prefix query so ``"red fo"`` already finds "a red fox". Words containing CJK text
are matched as substrings against the trigram index instead, because ``unicode61``
sees a whole Chinese sentence as one token.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from .model import Job, JobStatus, OutputFile
from .store_schema import CJK_CLASS, CJK_GLOB


@functools.cache
def _cjk_re() -> re.Pattern[str]:
    """Compiled on first use (~3 ms): start-up does not search."""
    return re.compile(f"[{CJK_CLASS}]")

#: Job fields stored in a column of the same name (everything but id, inputs and outputs)
PLAIN_FIELDS = (
    "model_id",
    "status",
    "created_at",
    "updated_at",
    "request_id",
    "queue_position",
    "submitted_at",
    "started_at",
    "finished_at",
    "error",
    "cost",
    "base_url",
    "note",
    "batch_id",
    "batch_place",
    "hold",
)
#: ``version`` comes last: it is bumped by every write (compare-and-set, see ``HistoryStore.update_job``)
JOB_COLUMNS = "jobs.id, jobs.inputs, jobs.variant, " + ", ".join(f"jobs.{name}" for name in PLAIN_FIELDS) + ", jobs.version"
OUTPUT_COLUMNS = "job_id, idx, url, path, width, height, format, size, thumb_path, kind, duration, fps, problem"


def dump_inputs(inputs: dict[str, Any]) -> str:
    return json.dumps(inputs, ensure_ascii=False, separators=(",", ":"))


def prompt_of(inputs: dict[str, Any]) -> str:
    value = inputs.get("prompt", "")
    return value if isinstance(value, str) else str(value)


def job_from_row(row: Sequence[Any], outputs: Sequence[OutputFile] = ()) -> Job:
    values = dict(zip(PLAIN_FIELDS, row[3:-1], strict=True))
    values["status"] = JobStatus(values["status"])
    variant = json.loads(row[2]) if row[2] else None
    return Job(
        id=row[0], inputs=json.loads(row[1]), variant=variant, outputs=tuple(outputs), version=row[-1], **values
    )


def output_from_row(row: Sequence[Any]) -> OutputFile:
    _job_id, index, url, path, width, height, fmt, size, thumb, kind, duration, fps, problem = row
    return OutputFile(index, url, path, width, height, fmt, size, thumb, kind, duration, fps, problem)


def output_params(job_id: int, output: OutputFile) -> tuple[Any, ...]:
    return (
        job_id,
        output.index,
        output.url,
        output.path,
        output.width,
        output.height,
        output.format,
        output.size,
        output.thumb_path,
        output.kind,
        output.duration,
        output.fps,
        output.problem,
    )


@dataclass
class SearchTerms:
    """A user's search text split into an FTS5 word query and CJK substrings."""

    fts: str | None = None
    substrings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.fts is None and not self.substrings


def parse_search(text: str | None) -> SearchTerms:
    """Split search-box text into safe terms; punctuation-only text means no filter."""
    terms = SearchTerms()
    if not text:
        return terms
    text = "".join(ch if ch.isprintable() else " " for ch in text)  # FTS5 stops at NUL
    words = text.split()
    quoted: list[str] = []
    for position, word in enumerate(words):
        if _cjk_re().search(word):
            terms.substrings.append(word)
        elif any(ch.isalnum() for ch in word):
            phrase = '"' + word.replace('"', '""') + '"'
            is_last = position == len(words) - 1 and not text[-1:].isspace()
            quoted.append(phrase + "*" if is_last else phrase)
    if quoted:
        terms.fts = " ".join(quoted)
    return terms


_BATCH_RE = re.compile(r"(?:^|\s)batch:#?(\d+)(?=\s|$)", re.IGNORECASE)
_DERIVED_RE = re.compile(r"(?:^|\s)(?:from|derived):#?(\d+)(?=\s|$)", re.IGNORECASE)


def split_batch(text: str | None) -> tuple[str | None, int | None]:
    """The search text without a ``batch:7`` token (history: "jobs of batch 7"), and that batch id."""
    return _split_token(_BATCH_RE, text)


def split_derived(text: str | None) -> tuple[str | None, int | None]:
    """The search text without a ``from:#12`` token (history: "derived from #12"), and that job id."""
    return _split_token(_DERIVED_RE, text)


def _split_token(pattern: re.Pattern[str], text: str | None) -> tuple[str | None, int | None]:
    """The text without the first ``word:N`` token ``pattern`` finds, and its number (None when there is none)."""
    if not text:
        return text, None
    match = pattern.search(text)
    if match is None:
        return text, None
    return (text[: match.start()] + " " + text[match.end() :]).strip(), int(match.group(1))


def substring_clause(word: str) -> tuple[str, str]:
    """SQL and LIKE pattern matching prompts that contain ``word`` (a CJK term).

    The trigram index serves plain LIKE patterns of 3+ characters. Shorter words (most
    Chinese words are two characters; SQLite 3.40 even returns no rows for them) and
    words with LIKE wildcards are checked by SQLite itself, only over the CJK rows
    thanks to the partial index ``jobs_cjk_rows``.
    """
    if len(word) >= 3 and not any(ch in word for ch in "%_\\"):
        return "jobs.id IN (SELECT rowid FROM jobs_cjk WHERE prompt LIKE ?)", f"%{word}%"
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"(jobs.prompt GLOB '{CJK_GLOB}' AND jobs.prompt LIKE ? ESCAPE '\\')", f"%{escaped}%"


@dataclass
class Query:
    """A FROM clause, WHERE terms and their parameters, built up filter by filter."""

    source: str = "jobs"
    order_column: str = "jobs.id"
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def where(self) -> str:
        return f" WHERE {' AND '.join(self.clauses)}" if self.clauses else ""

    def page_sql(self, before_id: int | None) -> str:
        """Newest first, keyset-paged by id; the caller appends the LIMIT parameter."""
        if before_id is not None:
            self.add(f"{self.order_column} < ?", before_id)
        return (
            f"SELECT {JOB_COLUMNS} FROM {self.source}{self.where()} ORDER BY {self.order_column} DESC LIMIT ?"
        )

    def count_sql(self, cap: int | None = None) -> str:
        """``count(*)`` of the matching rows; with ``cap``, of at most ``cap + 1`` of them."""
        if cap is None:
            return f"SELECT count(*) FROM {self.source}{self.where()}"
        return f"SELECT count(*) FROM (SELECT 1 FROM {self.source}{self.where()} LIMIT {int(cap) + 1})"


@dataclass
class Filters:
    """The WHERE clause shared by list_jobs and count_jobs."""

    search: str | None = None
    statuses: Collection[JobStatus] | None = None
    model_id: str | None = None
    since: float | None = None
    until: float | None = None
    #: only the jobs of this batch (also written ``batch:7`` in the search text)
    batch_id: int | None = None

    def query(self) -> Query:
        """The FROM/WHERE for these filters.

        With search words the FTS index drives the loop (``CROSS JOIN`` fixes the join
        order): FTS5 yields matches newest first by rowid, so a page costs ~``limit``
        matches instead of materialising every match and sorting.
        """
        query = Query()
        search, batch_id = split_batch(self.search)
        search, derived = split_derived(search)
        if batch_id is None:
            batch_id = self.batch_id
        terms = parse_search(search)
        if terms.fts is not None:
            query.source = "jobs_fts CROSS JOIN jobs ON jobs.id = jobs_fts.rowid"
            query.order_column = "jobs_fts.rowid"
            query.add("jobs_fts MATCH ?", terms.fts)
        for word in terms.substrings:
            query.add(*substring_clause(word))
        if self.statuses is not None:
            values = sorted({JobStatus(s).value for s in self.statuses})
            query.add(f"jobs.status IN ({', '.join('?' * len(values))})" if values else "0", *values)
        if self.model_id is not None:
            query.add("jobs.model_id = ?", self.model_id)
        if derived is not None:  # "from:#12": every job made from #12's results, down the whole chain
            query.add(
                "jobs.id IN (WITH RECURSIVE down(id) AS (SELECT job_id FROM job_parents WHERE parent_id = ? "
                "UNION SELECT p.job_id FROM job_parents p JOIN down ON p.parent_id = down.id) SELECT id FROM down)",
                derived,
            )
        if batch_id is not None:
            query.add("jobs.batch_id = ?", batch_id)
        if self.since is not None:
            query.add("jobs.created_at >= ?", self.since)
        if self.until is not None:
            query.add("jobs.created_at < ?", self.until)
        return query

    @property
    def only_counters(self) -> bool:
        """True when the per-(model, status) counters answer the count without a scan."""
        return (
            not self.search_terms_present and self.since is None and self.until is None and self.batch_id is None
        )

    @property
    def search_terms_present(self) -> bool:
        return not parse_search(self.search).empty


def count_from_counters(conn: sqlite3.Connection, filters: Filters) -> int:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.statuses is not None:
        values = sorted({JobStatus(s).value for s in filters.statuses})
        if not values:
            return 0
        clauses.append(f"status IN ({', '.join('?' * len(values))})")
        params.extend(values)
    if filters.model_id is not None:
        clauses.append("model_id = ?")
        params.append(filters.model_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    row = conn.execute(f"SELECT COALESCE(SUM(n), 0) FROM job_counts{where}", params).fetchone()
    return int(row[0])
