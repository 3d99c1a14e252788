"""The job history: nothing a user paid for may be lost, and search must never crash."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from history_fill import fill_history

from seedream_tui.jobs import store_schema
from seedream_tui.jobs.model import JobStatus, OutputFile
from seedream_tui.jobs.store import (
    AsyncHistory,
    HistoryError,
    HistoryStore,
    JobNotFoundError,
    Lease,
    StaleJobError,
)
from seedream_tui.paths import Paths

MODEL = "bytedance/seedream-5/lite/text-to-image"
FLUX = "blackforestlabs/flux-2/flash/text-to-image"


@pytest.fixture
def db_path() -> Path:
    return Paths.default().history_db


@pytest.fixture
def store(db_path: Path):
    s = HistoryStore(db_path)
    yield s
    s.close()


def add(
    store: HistoryStore,
    prompt: str,
    *,
    model: str = MODEL,
    status: JobStatus | None = None,
    now: float = 1000.0,
):
    job = store.create_job(model, {"prompt": prompt}, now=now)
    if status is not None:
        job = store.update_job(job.id, status=status)
    return job


# -- round trips ---------------------------------------------------------------------


def test_create_update_get_round_trip(store: HistoryStore, db_path: Path) -> None:
    inputs = {
        "prompt": "一只红色的狐狸 — “quoted” é",
        "size": "2048*2048",
        "seed": 7,
        "nested": {"a": [1, None]},
    }
    job = store.create_job(MODEL, inputs, base_url="http://127.0.0.1:1", now=1234.5)
    assert db_path.exists()
    assert job.status is JobStatus.SUBMITTING
    assert (job.created_at, job.updated_at, job.base_url) == (1234.5, 1234.5, "http://127.0.0.1:1")
    assert job.inputs == inputs and job.prompt == inputs["prompt"]

    updated = store.update_job(
        job.id, request_id="req-1", status=JobStatus.QUEUED, queue_position=3, submitted_at=1235.0, cost=0.03
    )
    assert updated.updated_at > 1234.5
    assert (updated.request_id, updated.status, updated.queue_position, updated.cost) == (
        "req-1",
        JobStatus.QUEUED,
        3,
        0.03,
    )
    done = store.update_job(
        job.id, status="failed", error="Out of credits.", finished_at=1300.0, updated_at=1300.0
    )
    assert done.status is JobStatus.FAILED and done.updated_at == 1300.0

    fetched = store.get(job.id)
    assert fetched == done
    assert store.get_by_request_id("req-1") == done
    assert store.get_by_request_id("nope") is None and store.get(999) is None

    # the raw row stores readable JSON (ensure_ascii=False)
    raw = store._conn.execute("SELECT inputs FROM jobs WHERE id = ?", (job.id,)).fetchone()[0]  # type: ignore[union-attr]
    assert "一只红色的狐狸" in raw


def test_update_job_rejects_unknown_and_protected_fields(store: HistoryStore) -> None:
    job = add(store, "x")
    for bad in ({"id": 5}, {"outputs": ()}, {"colour": "red"}, {"status": "exploded"}):
        with pytest.raises(ValueError):
            store.update_job(job.id, **bad)
    assert store.get(job.id) == job  # nothing half-applied
    with pytest.raises(JobNotFoundError, match="no longer in the history"):
        store.update_job(12345, status=JobStatus.QUEUED)


def test_request_id_is_unique(store: HistoryStore) -> None:
    a, b = add(store, "a"), add(store, "b")
    store.update_job(a.id, request_id="same")
    with pytest.raises(HistoryError):
        store.update_job(b.id, request_id="same")


def test_outputs_set_and_upsert(store: HistoryStore) -> None:
    job = add(store, "two images")
    store.set_outputs(job.id, [OutputFile(1, "https://cdn/b.png"), OutputFile(0, "https://cdn/a.png")])
    assert [o.url for o in store.get(job.id).outputs] == ["https://cdn/a.png", "https://cdn/b.png"]  # type: ignore[union-attr]

    done = OutputFile(
        1,
        "https://cdn/b.png",
        path="/tmp/b.png",
        width=2048,
        height=1536,
        format="png",
        size=123,
        thumb_path="/tmp/b.thumb.png",
    )
    job2 = store.update_output(job.id, done)
    assert job2.outputs[1] == done and job2.outputs[0].path is None
    job3 = store.set_outputs(job.id, [OutputFile(0, "https://cdn/c.png")])
    assert job3.outputs == (OutputFile(0, "https://cdn/c.png"),)
    with pytest.raises(JobNotFoundError):
        store.update_output(999, done)


def test_delete_cascades_outputs(store: HistoryStore) -> None:
    job = add(store, "delete me")
    store.set_outputs(job.id, [OutputFile(0, "u0"), OutputFile(1, "u1")])
    deleted = store.delete_job(job.id)
    assert deleted is not None and len(deleted.outputs) == 2
    assert store.get(job.id) is None
    assert store._conn.execute("SELECT count(*) FROM outputs").fetchone()[0] == 0  # type: ignore[union-attr]
    assert store.delete_job(job.id) is None
    assert store.count_jobs() == 0 and store.list_jobs(search="delete") == []


# -- listing, paging, filters ----------------------------------------------------------


def test_newest_first_keyset_paging(store: HistoryStore) -> None:
    ids = [add(store, f"prompt {i}", now=1000.0 + i).id for i in range(120)]
    seen: list[int] = []
    before = None
    while True:
        page = store.list_jobs(limit=50, before_id=before)
        if not page:
            break
        assert len(page) <= 50
        seen += [j.id for j in page]
        before = page[-1].id
    assert seen == sorted(ids, reverse=True)


def test_every_filter_and_count(store: HistoryStore) -> None:
    a = add(store, "a red fox", status=JobStatus.COMPLETED, now=100.0)
    b = add(store, "a blue fox", model=FLUX, status=JobStatus.FAILED, now=200.0)
    c = add(store, "a red owl", status=JobStatus.RUNNING, now=300.0)
    d = add(store, "green tea", model=FLUX, status=JobStatus.COMPLETED, now=400.0)

    def check(expected: list, **filters) -> None:
        assert [j.id for j in store.list_jobs(**filters)] == [j.id for j in expected]
        assert store.count_jobs(**filters) == len(expected)

    check([d, c, b, a])
    check([d, a], statuses=[JobStatus.COMPLETED])
    check([d, c, a], statuses={JobStatus.COMPLETED, JobStatus.RUNNING})
    check([], statuses=[])
    check([d, b], model_id=FLUX)
    check([d], model_id=FLUX, statuses=[JobStatus.COMPLETED])
    check([d, c], since=300.0)
    check([b, a], until=300.0)
    check([b], since=150.0, until=250.0)
    check([b, a], search="fox")
    check([c, a], search="red")
    check([a], search="red", statuses=[JobStatus.COMPLETED])
    check([b], search="fox", model_id=FLUX, since=150.0)
    assert [j.id for j in store.list_jobs(search="fox", before_id=b.id)] == [a.id]

    # the counters follow status/model changes and deletes
    store.update_job(c.id, status=JobStatus.COMPLETED)
    check([d, c, a], statuses=[JobStatus.COMPLETED])
    check([], statuses=[JobStatus.RUNNING])
    store.delete_job(d.id)
    check([b], model_id=FLUX)
    assert store.model_ids() == [FLUX, MODEL]
    store.delete_job(b.id)
    assert store.model_ids() == [MODEL]


def test_live_jobs_oldest_first(store: HistoryStore) -> None:
    jobs = {s: add(store, s.value, status=s) for s in JobStatus}
    live = store.live_jobs()
    assert [j.status for j in live] == [
        JobStatus.SUBMITTING,
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.DOWNLOADING,
    ]
    assert [j.id for j in live] == sorted(j.id for j in live)
    store.update_job(jobs[JobStatus.RUNNING].id, status=JobStatus.COMPLETED)
    assert JobStatus.RUNNING not in {j.status for j in store.live_jobs()}


def test_recent_prompts_distinct_most_recent_first(store: HistoryStore) -> None:
    for prompt in ["cat", "dog", "cat", "", "owl"]:
        add(store, prompt)
    store.create_job(MODEL, {"size": "1024*1024"})  # no prompt at all
    assert store.recent_prompts() == ["owl", "cat", "dog"]
    assert store.recent_prompts(limit=2) == ["owl", "cat"]


# -- full-text search --------------------------------------------------------------------


def test_search_prefix_of_last_word(store: HistoryStore) -> None:
    fox = add(store, "a red fox in the snow")
    add(store, "a red owl")
    add(store, "forest")
    assert [j.id for j in store.list_jobs(search="red fo")] == [fox.id]
    assert [j.id for j in store.list_jobs(search="RED FOX")] == [fox.id]  # case-insensitive
    assert store.list_jobs(search="red fo ") == []  # a finished word is a whole word
    assert store.count_jobs(search="fo") == 2


HOSTILE = [
    '"',
    '""',
    "*",
    "**",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "-",
    "(",
    ")",
    "((",
    "^",
    ":",
    "{",
    "}",
    "+",
    "'",
    "\\",
    "%",
    "_",
    'a"b',
    "fox*",
    '"red fox',
    "red AND",
    "AND red",
    "red OR",
    "NOT red",
    "red -fox",
    "prompt:fox",
    "NEAR(red fox)",
    "red NEAR/2 fox",
    "*red",
    "fox)",
    '狐"',
    '"狐狸',
    "狐%",
    "狐_",
    "\x00",
    "a\x00b",
    "   ",
    "",
    "🦊",
    "e\u0301",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_search_never_raises_on_typed_syntax(store: HistoryStore, text: str) -> None:
    add(store, "a red fox and the blue owl")
    add(store, "一只红色的狐狸")
    jobs = store.list_jobs(search=text)
    assert store.count_jobs(search=text) == len(jobs)


def test_operators_are_plain_words(store: HistoryStore) -> None:
    both = add(store, "cats and dogs")
    add(store, "cats only")
    assert [j.id for j in store.list_jobs(search="cats AND dogs")] == [both.id]  # "and" must be present too
    assert [j.id for j in store.list_jobs(search="cats -dogs")] == [both.id]  # not an exclusion
    assert {j.id for j in store.list_jobs(search='"cats')} == {both.id, both.id + 1}
    # punctuation-only text filters nothing
    assert len(store.list_jobs(search='"*(')) == 2


def test_chinese_search(store: HistoryStore) -> None:
    fox = add(store, "一只红色的狐狸在雪地里")
    cat = add(store, "樱花树下的小猫, watercolor")
    add(store, "a red fox")
    add(store, "夕阳下的古老城堡")
    assert [j.id for j in store.list_jobs(search="狐狸")] == [fox.id]  # 2 characters
    assert [j.id for j in store.list_jobs(search="红色的狐狸")] == [fox.id]  # trigram index
    assert [j.id for j in store.list_jobs(search="猫")] == [cat.id]  # 1 character
    assert [j.id for j in store.list_jobs(search="小猫 water")] == [cat.id]  # mixed with a prefix word
    assert store.list_jobs(search="狐% ") == []  # LIKE wildcards are literal
    assert store.count_jobs(search="的") == 3
    # editing the prompt moves the job in both indexes
    store.update_job(fox.id, inputs={"prompt": "a grey wolf"})
    assert store.list_jobs(search="狐狸") == [] and store.list_jobs(search="红色的狐狸") == []
    assert [j.id for j in store.list_jobs(search="wolf")] == [fox.id]
    store.update_job(fox.id, inputs={"prompt": "雪地里的狼"})
    assert [j.id for j in store.list_jobs(search="雪地里")] == [fox.id]
    store.delete_job(fox.id)
    assert store.list_jobs(search="雪地里") == []
    conn = store._conn
    assert conn is not None
    conn.execute("INSERT INTO jobs_fts(jobs_fts, rank) VALUES ('integrity-check', 1)")


# -- the file: migrations, refusals, corruption -----------------------------------------------


def test_new_file_pragmas_and_reopen(db_path: Path) -> None:
    store = HistoryStore(db_path)
    conn = store._conn
    assert conn is not None
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store_schema.SCHEMA_VERSION
    job = add(store, "persisted")
    assert store.integrity_check() == "ok"
    store.close()
    store.close()  # idempotent
    with pytest.raises(HistoryError, match="closed"):
        store.get(job.id)
    again = HistoryStore(db_path)
    assert again.get(job.id) == job
    again.close()


def test_next_migration_is_one_more_function(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    HistoryStore(db_path).close()

    def v2(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE jobs ADD COLUMN starred INTEGER NOT NULL DEFAULT 0")

    current = store_schema.SCHEMA_VERSION
    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store_schema.MIGRATIONS, v2])
    monkeypatch.setattr(store_schema, "SCHEMA_VERSION", current + 1)
    store = HistoryStore(db_path)
    assert store._conn.execute("PRAGMA user_version").fetchone()[0] == current + 1  # type: ignore[union-attr]
    assert store._conn.execute("SELECT starred FROM jobs").fetchall() == []  # type: ignore[union-attr]
    store.close()


def test_a_version_1_history_gains_versions_and_beats(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_schema, "MIGRATIONS", store_schema.MIGRATIONS[:1])
    monkeypatch.setattr(store_schema, "SCHEMA_VERSION", 1)
    old = HistoryStore(db_path)
    old._conn.execute(  # type: ignore[union-attr]
        "INSERT INTO jobs (model_id, inputs, prompt, status, created_at, updated_at, request_id, poll_owner) "
        "VALUES ('m', '{\"prompt\": \"kept\"}', 'kept', 'queued', 1, 1, 'r-1', 'gone:1:x')"
    )
    old.close()
    monkeypatch.undo()
    store = HistoryStore(db_path)
    [job] = store.live_jobs()
    assert (job.prompt, job.request_id, job.version) == ("kept", "r-1", 0)
    assert store.lease(job.id) == Lease("gone:1:x", 0)
    store.close()


def test_failed_migration_rolls_back(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    HistoryStore(db_path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        conn.execute("THIS IS NOT SQL")

    current = store_schema.SCHEMA_VERSION
    monkeypatch.setattr(store_schema, "MIGRATIONS", [*store_schema.MIGRATIONS, broken])
    monkeypatch.setattr(store_schema, "SCHEMA_VERSION", current + 1)
    with pytest.raises(HistoryError, match=f"could not be upgraded to schema version {current + 1}"):
        HistoryStore(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == current
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall() == []
    conn.close()


def test_newer_version_is_refused_untouched(db_path: Path) -> None:
    HistoryStore(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(HistoryError, match="made by a newer seedream-tui") as err:
        HistoryStore(db_path)
    assert str(db_path) in str(err.value)
    assert db_path.read_bytes() == before


@pytest.mark.parametrize(
    "content", [b"short", b"hello, this is not a database at all " * 50, bytes(range(256)) * 40]
)
def test_not_a_database_is_refused_untouched(db_path: Path, content: bytes) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    with pytest.raises(HistoryError) as err:
        HistoryStore(db_path)
    assert str(db_path) in str(err.value) and "Traceback" not in str(err.value)
    assert db_path.read_bytes() == content


def test_damaged_pages_become_history_errors(db_path: Path) -> None:
    store = HistoryStore(db_path)
    fill_history(store, ((MODEL, {"prompt": f"prompt number {i} " * 20}, JobStatus.COMPLETED, float(i)) for i in range(500)))
    store.close()
    data = bytearray(db_path.read_bytes())
    page = 4096
    data[page * 3 : len(data) - page] = b"\xff" * (len(data) - page * 4)  # keep the header page only
    db_path.write_bytes(bytes(data))
    damaged = bytes(data)
    with pytest.raises(HistoryError) as err:
        s = HistoryStore(db_path)
        try:
            s.list_jobs(search="prompt")
            s.count_jobs(since=0.0)
            s.get(250)
        finally:
            s.close()
    assert str(db_path) in str(err.value)
    assert db_path.read_bytes() == damaged


def test_foreign_sqlite_file_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(HistoryError, match="another program"):
        HistoryStore(db_path)
    assert db_path.read_bytes() == before


# -- two app instances ----------------------------------------------------------------------


def test_poll_claims_between_two_owners(store: HistoryStore) -> None:
    job = add(store, "shared")
    assert store.try_claim(job.id, "app-a")
    assert not store.try_claim(job.id, "app-b")
    assert store.try_claim(job.id, "app-a")  # ours already
    seen = store.lease(job.id)
    assert seen is not None and seen.owner == "app-a"
    assert store.heartbeat("app-a") == [job.id]  # a's heartbeat moves the beat on...
    assert not store.try_claim(job.id, "app-b", expired=seen)  # ...so what b saw standing still is stale
    standing = store.lease(job.id)
    assert store.try_claim(job.id, "app-b", expired=standing)  # the beat b watched did stand still: b takes over
    assert not store.try_claim(job.id, "app-a")
    assert store.heartbeat("app-a") == []  # a's heartbeat no longer renews anything
    store.release_claims("app-b")
    assert store.try_claim(job.id, "app-a")
    assert not store.try_claim(9999, "app-a")


def test_writes_are_compare_and_set(store: HistoryStore) -> None:
    job = add(store, "cas")
    store.try_claim(job.id, "app-a")
    stale = store.get(job.id)
    assert stale is not None
    newer = store.update_job(job.id, expect_version=stale.version, owner="app-a", status=JobStatus.RUNNING)
    assert newer.version == stale.version + 1
    with pytest.raises(StaleJobError) as refused:  # a write from the old copy never lands
        store.update_job(job.id, expect_version=stale.version, owner="app-a", status=JobStatus.QUEUED)
    assert refused.value.current.status is JobStatus.RUNNING
    store.try_claim(job.id, "app-b", expired=store.lease(job.id))
    with pytest.raises(StaleJobError):  # nor one from an instance that lost the lease
        store.update_job(job.id, expect_version=newer.version, owner="app-a", status=JobStatus.FAILED)
    done = store.update_job(job.id, owner="app-b", status=JobStatus.COMPLETED)
    lease = store.lease(job.id)
    assert done.status is JobStatus.COMPLETED and lease is not None and lease.owner is None  # final: freed
    assert store.get(job.id) == done


def test_two_stores_writing_from_threads_keep_every_row(db_path: Path) -> None:
    stores = [HistoryStore(db_path), HistoryStore(db_path)]
    errors: list[BaseException] = []

    def work(store: HistoryStore, tag: str) -> None:
        try:
            for i in range(40):
                job = store.create_job(MODEL, {"prompt": f"{tag} job {i}"})
                store.update_job(job.id, status=JobStatus.QUEUED, request_id=f"{tag}-{i}")
                store.set_outputs(job.id, [OutputFile(0, f"https://cdn/{tag}/{i}.png")])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(stores[n % 2], f"t{n}")) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    for s in stores:
        assert s.count_jobs() == 240
        assert s.count_jobs(statuses=[JobStatus.QUEUED]) == 240
        assert len({j.request_id for j in s.list_jobs(limit=1000)}) == 240
        assert s.integrity_check() == "ok"
        s.close()


# -- asyncio ------------------------------------------------------------------------------------


async def test_async_history(db_path: Path) -> None:
    history = await AsyncHistory.open(db_path)
    loop_thread = threading.get_ident()
    created = await asyncio.gather(*(history.create_job(MODEL, {"prompt": f"async {i}"}) for i in range(10)))
    assert [j.id for j in created] == list(range(1, 11))  # one worker: calls run in submission order
    job = await history.update_job(created[0].id, status=JobStatus.RUNNING, request_id="r-a")
    assert (await history.get_by_request_id("r-a")) == job
    await history.set_outputs(job.id, [OutputFile(0, "u")])
    job = await history.update_output(job.id, OutputFile(0, "u", path="/x.png"))
    assert job.outputs[0].path == "/x.png"
    assert [j.id for j in await history.live_jobs()][0] == job.id
    assert len(await history.list_jobs(search="async", limit=5)) == 5
    assert await history.count_jobs(statuses=[JobStatus.RUNNING]) == 1
    assert await history.try_claim(job.id, "me")
    await history.release_claims("me")
    assert (await history.recent_prompts(3)) == ["async 9", "async 8", "async 7"]
    assert await history.model_ids() == [MODEL]
    assert await history.integrity_check() == "ok"
    assert (await history.delete_job(job.id)) is not None
    assert (await history.get(job.id)) is None
    worker = await asyncio.get_running_loop().run_in_executor(history._executor, threading.get_ident)
    assert worker != loop_thread
    await history.close()
    with pytest.raises(HistoryError):
        history.store.get(1)


@pytest.fixture
def garbage_db(db_path: Path) -> Path:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"not a database" * 100)
    return db_path


async def test_async_open_reports_history_error(garbage_db: Path) -> None:
    db_path = garbage_db
    with pytest.raises(HistoryError):
        await AsyncHistory.open(db_path)


def test_bulk_insert_for_bench(store: HistoryStore) -> None:
    fill_history(store, ((MODEL if i % 2 else FLUX, {"prompt": f"bulk {i}"}, JobStatus.COMPLETED, float(i)) for i in range(300)))
    assert store.count_jobs() == 300
    assert store.count_jobs(model_id=FLUX) == 150
    assert store.list_jobs(limit=1)[0].prompt == "bulk 299"
    assert store.count_jobs(search="bulk") == 300
