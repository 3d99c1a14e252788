"""The import contract (issue 10 §2), checked by ``make lint`` and by pytest.

* Only ``seedream_tui/tui/`` imports Textual, Rich or textual-image: the core (api, schema, jobs, config,
  the CLI) runs headless and is testable without a terminal.
* Only the demo entry points import ``seedream_tui.fake``: the fake server is a test double and demo
  backend, never a dependency of the real code paths.

Every module is read as a syntax tree: ``import x``, ``from x import y`` (also inside functions and
``TYPE_CHECKING`` blocks) and ``importlib.import_module("x")`` with a literal name all count.
Run as a script (``python tests/test_import_contract.py``) it prints each violation and exits 1.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "seedream_tui"
UI_LIBRARIES = ("textual", "rich", "textual_image")
#: the only modules outside fake/ that may import it, and why
FAKE_ENTRY_POINTS = {
    "cli.py": "the `fake-server` command",
    "jobs/demo_backend.py": "--demo finds or starts the bundled fake server",
    "jobs/service.py": "demo_fake_config(): the settings of the server behind --demo",
}


def imported_modules(source: str) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _is(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        in_tui, in_fake = rel.startswith("tui/"), rel.startswith("fake/")
        for line, module in imported_modules(path.read_text(encoding="utf-8")):
            if not in_tui and any(_is(module, lib) for lib in UI_LIBRARIES):
                found.append(f"{root.name}/{rel}:{line}: imports {module}; only seedream_tui/tui/ may import UI code")
            if not in_fake and rel not in FAKE_ENTRY_POINTS and _is(module, "seedream_tui.fake"):
                found.append(f"{root.name}/{rel}:{line}: imports {module}; only the demo entry points may")
    return found


def test_the_package_keeps_the_contract() -> None:
    assert violations() == []


def test_the_check_finds_each_kind_of_violation(tmp_path: Path) -> None:
    root = tmp_path / "seedream_tui"
    (root / "jobs").mkdir(parents=True)
    (root / "tui").mkdir()
    (root / "jobs" / "bad.py").write_text(
        "from rich.text import Text\n"
        "def f():\n    import textual.app\n"
        "import importlib\nimportlib.import_module('seedream_tui.fake.server')\n"
    )
    (root / "tui" / "ok.py").write_text("from textual.app import App\nfrom seedream_tui.fake import x\n")
    found = violations(root)
    assert [f.split(":")[1] for f in found] == ["1", "3", "5", "2"]
    assert "tui/ok.py:2" in found[-1]


def main() -> int:
    found = violations()
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"import contract: {len(found)} violation(s).", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
