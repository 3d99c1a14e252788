"""``seedream-tui completion bash|zsh|fish`` (issue 24 §1): scripts made from the command line's own parser."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from seedream_tui.cli import build_parser, main
from seedream_tui.paths import Paths


def _subcommands() -> list[str]:
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


def _script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


#: how each shell's script registers itself for the command
REGISTERS = {
    "bash": "complete -o bashdefault -F _shtab_seedream_tui seedream-tui",
    "zsh": "#compdef seedream-tui",
    "fish": "complete -c seedream-tui",
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_naming_every_subcommand(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script(shell, capsys)
    assert REGISTERS[shell] in script
    names = _subcommands()
    assert {"submit", "batch", "history", "doctor", "completion", "token", "fake-server"} <= set(names)
    missing = [name for name in names if name not in script]
    assert missing == []
    assert not Paths.default().log_file.exists()  # printing a script writes nothing


def test_the_bash_script_is_valid_bash_and_completes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    script = tmp_path / "seedream-tui.bash"
    script.write_text(_script("bash", capsys))
    checked = subprocess.run([bash, "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr

    def complete(*words: str) -> list[str]:
        """What Tab offers after ``seedream-tui WORDS…`` (the last word is the one being completed)."""
        quoted = " ".join(f"'{w}'" for w in ("seedream-tui", *words))
        run = subprocess.run(
            [bash, "--norc", "--noprofile", "-c",
             f'source "{script}"; COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; '
             'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; _shtab_seedream_tui; '
             'printf "%s\\n" "${COMPREPLY[@]}"'],
            capture_output=True, text=True, cwd=tmp_path, timeout=30,
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.split()

    assert complete("s") == ["submit", "status", "spend"]
    assert complete("completion", "") == ["bash", "zsh", "fish"]
    assert {"--json", "--offline"} <= set(complete("doctor", "--"))
    (tmp_path / "prompts.txt").write_text("a fox\n")
    (tmp_path / "outdir").mkdir()
    assert "prompts.txt" in complete("batch", "pro")  # a file argument completes file names
    assert complete("submit", "x", "--out", "out") == ["outdir"]  # --out completes folders only
