"""The README is for newcomers and the docs hold the rest (issue 24 §2): its size, its sections in the order
the issue gives, links that lead somewhere, and commands that exist.

* README.md stays under 15,000 characters, with ``## Install`` and ``## Troubleshooting`` among its sections in
  this order: install, a tour of the demo, keys, the command line, settings, where things live,
  troubleshooting, links.
* Every relative link or image in README.md, CONTRIBUTING.md and docs/*.md points at a file that exists (and
  at a heading of it, when the link names one).
* Every ``seedream-tui COMMAND`` the README shows is a command of the parser, and its command table lists every
  command the parser has.
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from pathlib import Path

import pytest

from seedream_tui.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_README_CHARS = 15_000

#: the README's sections, in the order issue 24 gives them (each a pattern on the heading's text)
SECTIONS = [
    r"Install",
    r".*\btour\b.*",
    r"Keys",
    r".*\bcommand line\b.*",
    r"Settings",
    r"Where things live",
    r"Troubleshooting",
    r"Links",
]


_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def _docs() -> list[Path]:
    return [README, ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


def _prose(text: str) -> str:
    """The text without code blocks and code spans (a ``[x](y)`` inside code is not a link)."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def _code(text: str) -> list[str]:
    """Every line of a fenced block and every inline code span: where commands are shown."""
    lines = [line for m in _FENCE.finditer(text) for line in m.group(0).splitlines()[1:-1]]
    spans = [m.group(0)[1:-1] for m in _INLINE_CODE.finditer(_FENCE.sub("", text))]
    return lines + spans


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for match in _HEADING.finditer(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = _slug(match.group(2))
        count = seen.get(slug, 0)
        anchors.add(slug if count == 0 else f"{slug}-{count}")
        seen[slug] = count + 1
    return anchors


def _subcommands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    raise AssertionError("the CLI parser has no subcommands")


def test_the_readme_is_short() -> None:
    size = len(README.read_text(encoding="utf-8"))
    assert size < MAX_README_CHARS, f"README.md has {size:,} characters; move detail to docs/ (under {MAX_README_CHARS:,})"


def test_the_readme_answers_in_the_issues_order() -> None:
    headings = [m.group(2) for m in _HEADING.finditer(_FENCE.sub("", README.read_text(encoding="utf-8")))
                if len(m.group(1)) == 2]
    assert "Install" in headings and "Troubleshooting" in headings, headings
    positions = []
    for pattern in SECTIONS:
        found = [i for i, heading in enumerate(headings) if re.fullmatch(pattern, heading, re.I)]
        assert found, f"README.md has no section matching {pattern!r}: {headings}"
        positions.append(found[0])
    assert positions == sorted(positions), f"README.md's sections are out of order: {headings}"


def test_the_readme_shows_a_screenshot_near_the_top() -> None:
    text = README.read_text(encoding="utf-8")
    first_section = text.index("\n## ")
    images = re.findall(r"!\[[^\]]*\]\((screenshots/[^)]+)\)", text[:first_section])
    assert images and all((ROOT / image).is_file() for image in images), images


@pytest.mark.parametrize("doc", _docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(doc: Path) -> None:
    broken = []
    for target in _LINK.findall(_prose(doc.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part).resolve() if file_part else doc
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {path.name}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


def _commands_shown(text: str) -> set[str]:
    """The subcommand of every ``seedream-tui …`` written as a command (at the start of a code span or line,
    after ``$(`` or a pipe), skipping global options and their values."""
    takes_value = {"--base-url", "--image-mode"}
    shown = set()
    for code in _code(text):
        for match in re.finditer(r"(?:^|\$\(|[|;&]\s*)\s*(?:\$\s+)?seedream-tui\b([^\n|;)&#]*)", code):
            words = match.group(1).split()
            while words and words[0].startswith("-"):
                option = words.pop(0)
                if option in takes_value and words:
                    words.pop(0)
            if words and re.fullmatch(r"[a-z][a-z-]*", words[0]):
                shown.add(words[0])
    return shown


def test_every_command_the_readme_shows_exists() -> None:
    shown = _commands_shown(README.read_text(encoding="utf-8"))
    assert {"submit", "doctor"} <= shown, shown  # the reader finds them (a check that finds nothing passes)
    unknown = shown - _subcommands()
    assert not unknown, f"README.md shows commands the CLI does not have: {sorted(unknown)}"


def test_the_readme_lists_every_command() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The command line", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    listed = {word for row in rows for word in re.findall(r"`([a-z][a-z-]*)", row)}
    missing = _subcommands() - listed
    assert not missing, f"README.md's command table leaves out: {sorted(missing)}"
    unknown = listed - _subcommands()
    assert not unknown, f"README.md's command table lists commands the CLI does not have: {sorted(unknown)}"


def test_the_checks_catch_what_they_check() -> None:
    """The readers behind the tests above find what they must (so a test cannot pass by finding nothing)."""
    assert _commands_shown('`seedream-tui --demo --base-url http://x submit "a"`') == {"submit"}
    assert _commands_shown('eval "$(seedream-tui completion bash)"\n') == set()  # prose: no code
    assert _commands_shown('```sh\neval "$(seedream-tui completion bash)"\n```\n') == {"completion"}
    assert _commands_shown("`The history is busy (another seedream-tui is writing to it)`") == set()
    assert _commands_shown("`pipx install seedream-tui`, `seedream-tui --image-mode tgp`") == set()
    assert _LINK.findall("see [a](docs/x.md#y) and ![b](s.png) but not `[c](d.md)`") == ["docs/x.md#y", "s.png", "d.md"]
    assert _slug("RunComfy endpoints used, and what is a guess") == "runcomfy-endpoints-used-and-what-is-a-guess"
    assert _slug("Performance III (issue 23)") == "performance-iii-issue-23"
