"""Where exports go and what the exported files are called.

Names a person can sort and recognise in a file manager: ``<id>-<prompt-slug>-<n>.png`` (the job's id
first, so a folder lists in the order the jobs were made); the default folder is ``~/Pictures/seedream-tui``,
never the directory the app happened to be started in.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from seedream_tui.jobs.model import Job, OutputFile

#: the prompt's first words, at most this many characters of them
SLUG_CHARS = 40


def default_export_dir() -> Path:
    return Path.home() / "Pictures" / "seedream-tui"


def slug(text: str, most: int = SLUG_CHARS) -> str:
    """``"A red fox, at dawn!"`` -> ``"a-red-fox-at-dawn"``: ASCII letters and digits, cut at a word end."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    out = ""
    for word in words:
        candidate = f"{out}-{word}" if out else word
        if len(candidate) > most:
            break
        out = candidate
    return out or (words[0][:most] if words else "image")


def export_name(job: Job, output: OutputFile) -> str:
    """``12-a-red-fox-at-dawn-1.png``: the job, its prompt, the image's number (from 1), its own extension."""
    suffix = Path(output.path or "").suffix or f".{output.format or 'png'}"
    return f"{job.id}-{slug(job.prompt)}-{output.index + 1}{suffix}"
