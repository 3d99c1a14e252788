"""Issue 21 in the TUI: one submit makes a batch (a repeat count, a sweep, variants), the whole batch is shown
before anything is sent, and a prompt file opens as a batch too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import submits
from tui_support import open_main, wait_for

from seedream_tui.batch.plan import BatchPlan, PlannedJob, numbered
from seedream_tui.batch.planner import PlanError
from seedream_tui.catalog.pricing import Quote
from seedream_tui.tui.app import SeedreamApp
from seedream_tui.tui.screens.plan import PlanScreen, job_line


def _toasts(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def _plan_on_top(app: Any) -> PlanScreen:
    await wait_for(lambda: isinstance(app.screen, PlanScreen) and app.screen.is_mounted, what="the plan dialog")
    screen = app.screen
    assert isinstance(screen, PlanScreen)
    return screen


async def test_a_repeat_count_shows_the_plan_and_submit_makes_the_batch(config: Any, core: Any, queue_server: Any) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox")
        main.options.batch_rows.set_values(repeat=3)
        pane = main.query_one("#options-pane")
        await wait_for(lambda: "3 jobs" in str(pane.border_subtitle), what="the count under the options")
        assert "≈ $0.03 a job" in str(pane.border_subtitle)
        await pilot.press("ctrl+s")
        dialog = await _plan_on_top(app)
        assert dialog.plan.count == 3 and dialog.lines.option_count == 3
        summary = str(dialog.query_one("#plan-summary").render())
        assert "3 jobs" in summary and "$0.09 in all (paid)" in summary  # the fake's $0.03 × 3, said as paid
        assert submits(queue_server) == 0  # nothing is sent while the plan is shown
        await pilot.press("y")
        await wait_for(lambda: len(main.table.jobs) == 3, what="the three jobs")
        await wait_for(lambda: submits(queue_server) == 3, what="three submits")
        jobs = await core.history.list_jobs()
        assert {job.batch_id for job in jobs} != {None} and len({job.batch_id for job in jobs}) == 1
        assert sorted(job.batch_place for job in jobs) == [0, 1, 2]
        assert all(job.prompt == "a red fox" for job in jobs)
        await wait_for(lambda: any("3 jobs submitted" in t and "(paid)" in t for t in _toasts(app)),
                       what="the batch's toast")


async def test_cancel_sends_nothing(config: Any, core: Any, queue_server: Any) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox")
        main.options.batch_rows.set_values(repeat=2)
        await pilot.press("f5")  # every submit key plans
        await _plan_on_top(app)
        await pilot.press("n")
        await wait_for(lambda: app.screen is main, what="back on the main screen")
        await pilot.pause()
        assert submits(queue_server) == 0 and await core.history.list_jobs() == []
        assert await core.history.list_batches() == []


async def test_a_sweep_over_resolution_plans_one_job_per_value(config: Any, core: Any, queue_server: Any) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a lighthouse")
        main.options.batch_rows.set_values(key="resolution", values="2K, 3K")
        main.options.batch_rows.set_values(repeat=2)
        await pilot.pause()
        await pilot.press("ctrl+s")
        dialog = await _plan_on_top(app)
        assert dialog.plan.count == 4
        assert [job.inputs["resolution"] for job in dialog.plan.jobs] == ["2K", "2K", "3K", "3K"]
        assert "resolution 3K · repeat 2" in job_line(dialog.plan.jobs[3]).plain
        await pilot.press("y")
        await wait_for(lambda: submits(queue_server) == 4, what="four submits")
        jobs = await core.history.list_jobs()
        assert sorted(job.inputs["resolution"] for job in jobs) == ["2K", "2K", "3K", "3K"]
        assert all(job.variant.get("resolution") in ("2K", "3K") for job in jobs)


async def test_a_sweep_value_the_schema_refuses_is_a_sentence_and_nothing_is_sent(
    config: Any, core: Any, queue_server: Any
) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a lighthouse")
        main.options.batch_rows.set_values(key="resolution", values="2K, 5K")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(lambda: any("'5K' is refused" in t for t in _toasts(app)), what="the sentence")
        sentence = next(t for t in _toasts(app) if "5K" in t)
        assert "Resolution must be one of" in sentence
        assert main.query_one("#batch-sweep-field").has_class("-invalid")  # said at the row too
        assert app.screen is main and submits(queue_server) == 0
        assert await core.history.list_jobs() == []


async def test_a_repeat_count_that_is_not_a_number_is_a_sentence(config: Any, core: Any, queue_server: Any) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a lighthouse")
        main.options.batch_rows.set_values(repeat=0)
        await pilot.press("ctrl+s")
        await wait_for(lambda: any("Repeat takes a whole number" in t for t in _toasts(app)), what="the sentence")
        assert app.screen is main and submits(queue_server) == 0


async def test_a_plan_error_with_a_column_says_the_column(config: Any, core: Any, queue_server: Any,
                                                          monkeypatch: Any) -> None:
    """A variant syntax error (the planner's PlanError with a column) is a sentence naming the column."""
    import seedream_tui.batch.planner as planner_module  # the main screen imports it when a prompt is submitted

    def refuse(spec: Any, request: Any) -> Any:
        raise PlanError("A variant is not closed: a '}' is missing.", column=3)

    monkeypatch.setattr(planner_module, "make_plan", refuse)
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a {red|blue fox")
        await pilot.press("ctrl+s")
        await wait_for(lambda: any("(column 3)" in t for t in _toasts(app)), what="the sentence with the column")
        assert main.editor.has_class("-invalid")
        assert app.screen is main and submits(queue_server) == 0


async def test_a_plan_of_one_job_is_the_single_submit(config: Any, core: Any, queue_server: Any) -> None:
    """Braces in the prompt go to the planner; a plan of one job keeps the single path (no dialog, the toast)."""
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a {fox}")
        main.options.batch_rows.set_values(key="resolution", values="3K")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(lambda: submits(queue_server) == 1, what="one submit")
        assert not isinstance(app.screen, PlanScreen)
        jobs = await core.history.list_jobs()
        assert len(jobs) == 1 and jobs[0].batch_id is None and jobs[0].inputs["resolution"] == "3K"
        await wait_for(lambda: any("submitted: ≈ $0.03 (paid)" in t for t in _toasts(app)), what="the priced toast")


def _variants_plan(count: int) -> BatchPlan:
    """A plan as the planner makes it for a prompt with variants (built by hand: the variant syntax is the
    planner's)."""
    model = "bytedance/seedream-5/lite/text-to-image"
    jobs = [
        PlannedJob(model, {"prompt": f"a fox number {i} [bold]not markup[/bold]"}, Quote(0.03),
                   variant={"prompt": f"number {i}"})
        for i in range(count)
    ]
    return BatchPlan(numbered(jobs), source="submit", label="a fox number {…}",
                     notes=(f"{count:,} sampled of 10,000 combinations.",))


async def test_a_thousand_job_plan_opens_as_one_list_and_submits_in_the_demo(config: Any, core: Any) -> None:
    core.demo = True
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.confirm_plan(_variants_plan(1000))
        dialog = await _plan_on_top(app)
        assert dialog.lines.option_count < 1000  # the first lines at once, the rest after the first frame
        await wait_for(lambda: dialog.filled, what="every job in the list")
        assert dialog.lines.option_count == 1000
        assert len(list(dialog.query("*"))) < 30  # one list, not 1,000 widgets
        summary = str(dialog.query_one("#plan-summary").render())
        assert "1,000 jobs" in summary and "demo prices, not charged" in summary and "sampled" in summary
        await pilot.press("end")  # the list scrolls to its last job at once
        await wait_for(lambda: dialog.lines.highlighted == 999, what="the last job")
        assert "[bold]not markup[/bold]" in job_line(dialog.plan.jobs[0]).plain  # outside text stays literal


async def test_a_variants_plan_submits_every_job_with_its_variant(config: Any, core: Any, queue_server: Any) -> None:
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.confirm_plan(_variants_plan(2))
        await _plan_on_top(app)
        await pilot.click("#plan-yes")
        await wait_for(lambda: submits(queue_server) == 2, what="two submits")
        jobs = sorted(await core.history.list_jobs(), key=lambda job: job.batch_place or 0)
        assert [job.variant for job in jobs] == [{"prompt": "number 0"}, {"prompt": "number 1"}]


async def test_a_prompt_file_opens_as_a_batch(config: Any, core: Any, queue_server: Any, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# foxes\na red fox\n\na fox in fog [i]literal[/i]\n", encoding="utf-8")
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.plan_file(str(prompts))
        dialog = await _plan_on_top(app)
        assert [job.inputs["prompt"] for job in dialog.plan.jobs] == ["a red fox", "a fox in fog [i]literal[/i]"]
        assert [job.variant["row"] for job in dialog.plan.jobs] == [2, 4]
        await pilot.press("y")
        await wait_for(lambda: submits(queue_server) == 2, what="two submits")


async def test_a_prompt_file_that_is_not_text_is_a_sentence(config: Any, core: Any, queue_server: Any,
                                                            tmp_path: Path) -> None:
    binary = tmp_path / "prompts.csv"
    binary.write_bytes(b"prompt\n\x00\x01\x02")
    bad_row = tmp_path / "rows.jsonl"
    bad_row.write_text('{"prompt": "a fox", "resolution": "9K"}\n', encoding="utf-8")
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.plan_file(str(binary))
        await wait_for(lambda: any("is not a text file" in t for t in _toasts(app)), what="the sentence")
        main.plan_file(str(bad_row))
        await wait_for(lambda: any("Line 1" in t and "Resolution must be one of" in t for t in _toasts(app)),
                       what="the row's sentence")
        assert app.screen is main and submits(queue_server) == 0


async def test_ctrl_f_opens_the_picker_for_prompt_files(config: Any, core: Any) -> None:
    from seedream_tui.tui.widgets.file_pick import FilePickScreen, ImageTree

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        await pilot.press("ctrl+f")
        await wait_for(lambda: isinstance(app.screen, FilePickScreen), what="the file picker")
        assert ".jsonl" in app.screen.query_one(ImageTree).suffixes
        assert "prompt file" in str(app.screen.query_one("#pick-box").border_title)


async def test_the_new_keys_are_in_the_help(config: Any, core: Any) -> None:
    from seedream_tui.tui.screens.help import binding_rows

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_main(app, pilot)
        ids = {row[3] for row in binding_rows(app, app.help_groups())}
        assert {"open-prompt-file", "plan-submit", "plan-cancel"} <= ids



async def test_each_batch_row_explains_itself_when_focused(config: Any, core: Any) -> None:
    from textual.widgets import Static

    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        help_line = main.options.query_one("#field-help", Static)
        for widget_id, words in [("#batch-repeat", "Repeat:"), ("#batch-sweep-key", "{a|b} variants"),
                                 ("#batch-sweep-values", "comma-separated")]:
            main.set_focus(main.options.batch_rows.query_one(widget_id))
            await wait_for(lambda words=words: words in str(help_line.render()), what=f"the help of {widget_id}")


async def test_a_demo_batch_says_its_money_is_not_charged(config: Any, core: Any, queue_server: Any) -> None:
    core.demo = True
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a red fox")
        main.options.batch_rows.set_values(repeat=2)
        await pilot.press("ctrl+s")
        dialog = await _plan_on_top(app)
        assert "Batch preview (demo)" in str(dialog.query_one("#plan-box").border_title)
        assert "demo prices, not charged" in str(dialog.query_one("#plan-summary").render())
        await pilot.press("y")
        await wait_for(lambda: any("2 jobs submitted" in t and "demo prices, not charged" in t for t in _toasts(app)),
                       what="the demo batch's toast")
        assert submits(queue_server) == 2


def test_prompt_files_refused_with_a_sentence(tmp_path: Path, monkeypatch: Any) -> None:
    """The TUI's reader of prompt files: a sentence for each bad file, nothing planned."""
    import pytest

    from seedream_tui.batch import prompt_files
    from seedream_tui.batch.planner import PlanRequest
    from seedream_tui.schema import ModelRegistry
    from seedream_tui.tui.batch_files import plan_prompt_file

    registry = ModelRegistry.bundled()
    spec = registry.default()
    request = PlanRequest(inputs={"resolution": "2K"})
    cases = {
        "long.txt": ("a fox " * 50_000 + "\n", "more than the 256 KB a line may be"),
        "unknown.csv": ("prompt,colour\na fox,red\n", "Line 2: unknown option 'colour'"),
        "empty.txt": ("# only a comment\n\n", "has no prompts"),
        "model.jsonl": ('{"prompt": "a fox", "model": "no/such-model"}\n', "unknown model 'no/such-model'"),
        "broken.jsonl": ('{"prompt": "a fox"\n', "broken.jsonl is not valid JSON"),
    }
    for name, (text, words) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(PlanError, match=words.replace("(", r"\(")):
            plan_prompt_file(registry, spec, path, request)
    rows = tmp_path / "rows.csv"
    rows.write_text("prompt,resolution\na fox,3K\na wolf,\n", encoding="utf-8")
    plan = plan_prompt_file(registry, spec, rows, PlanRequest(inputs={"resolution": "2K"}, repeat=2))
    assert [(j.inputs["prompt"], j.inputs["resolution"]) for j in plan.jobs] == [
        ("a fox", "3K"), ("a fox", "3K"), ("a wolf", "2K"), ("a wolf", "2K")]
    assert plan.label == "rows.csv" and plan.count == 4
    big = tmp_path / "big.txt"
    big.write_bytes(b"a fox\n" * 10)
    monkeypatch.setattr(prompt_files, "MAX_FILE_BYTES", 20)
    with pytest.raises(PlanError, match="a prompt file may be: nothing was read or sent"):
        plan_prompt_file(registry, spec, big, request)


async def test_variants_in_the_prompt_plan_every_combination(config: Any, core: Any, queue_server: Any) -> None:
    """With the planner's variant syntax (batch/variants.py; skipped where this branch has no such planner)."""
    import pytest

    pytest.importorskip("seedream_tui.batch.variants")
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text("a {red|arctic} fox in {snow|fog}")
        await pilot.press("ctrl+s")
        dialog = await _plan_on_top(app)
        assert sorted(job.inputs["prompt"] for job in dialog.plan.jobs) == [
            "a arctic fox in fog", "a arctic fox in snow", "a red fox in fog", "a red fox in snow"]
        await pilot.press("n")
        await wait_for(lambda: app.screen is main, what="back on the main screen")
        main.editor.load_text("a {red|arctic fox")
        await pilot.press("ctrl+s")
        await wait_for(lambda: any("column" in t for t in _toasts(app)), what="the syntax error's column")
        assert app.screen is main and submits(queue_server) == 0


async def test_ten_thousand_combinations_are_refused_with_a_sentence_or_sampled(
    config: Any, core: Any, queue_server: Any
) -> None:
    """Issue 21, scale: a prompt of 10,000 combinations and ctrl+s: at once a sentence (how many, the most a
    batch may have; not the CLI's --sample flag) and an offer to pick 1,000 at random; No sends nothing, Yes
    shows the sampled plan (still nothing sent until its Submit)."""
    from seedream_tui.tui.screens.confirm import ConfirmScreen

    braces = "{a|b|c|d|e|f|g|h|i|j}"
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        main.editor.load_text(" ".join([braces] * 4))
        await pilot.press("ctrl+s")
        await wait_for(lambda: any("10,000" in t for t in _toasts(app)), what="the sentence")
        sentence = next(t for t in _toasts(app) if "10,000" in t)
        assert "1,000" in sentence and "--sample" not in sentence
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="the offer to sample")
        assert "picked at random" in app.screen.message
        await pilot.press("n")
        await wait_for(lambda: app.screen is main, what="back to the main screen")
        assert submits(queue_server) == 0 and await core.history.list_jobs() == []

        await pilot.press("ctrl+s")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), what="the offer again")
        await pilot.press("y")
        dialog = await _plan_on_top(app)
        assert dialog.plan.count == 1000 and len({j.inputs["prompt"] for j in dialog.plan.jobs}) == 1000
        assert any("1,000 of 10,000 combinations picked at random" in n for n in dialog.plan.notes)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is main, what="the plan cancelled")
        assert submits(queue_server) == 0 and await core.history.list_jobs() == []


async def test_the_rows_read_as_one_job_while_their_controls_are_not_there(config: Any, core: Any) -> None:
    """The quote under the options asks the rows for their count on every change, also in the frame where a
    model switch rebuilds the panel: rows mounted but not (or no longer) composed count as one job, unset."""
    app = SeedreamApp(config, core=core)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await open_main(app, pilot)
        rows = main.options.batch_rows
        rows.set_values(repeat=3)
        await wait_for(lambda: rows.count_hint() == 3, what="the repeat count")
        await rows.remove_children()
        assert rows.is_mounted
        assert (rows.count_hint(), rows.repeat_text, rows.sweep_key, rows.sweep_text, rows.used) == (1, "", None, "", False)
        main.show_quote()  # what crashed the screen (NoMatches '#batch-repeat') in a CI run
        assert "jobs" not in str(main.query_one("#options-pane").border_subtitle)
