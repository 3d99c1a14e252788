"""Looking for one secret everywhere: in files (raw bytes and decoded views), texts and request logs.

A leak rarely shows the token verbatim in a neat place, so each haystack is searched for:

- the token itself, case-insensitively (an upper-cased or URL-encoded copy counts);
- its percent-encoded forms (``quote``/``quote_plus``), should the token hold characters that change;
- its base64 (standard and URL-safe) at each of the three byte alignments, so a token inside a longer
  encoded blob (``Basic`` auth, a data: URL, a JSON dump) is found too;
- every 10-character window of its secret middle (not the public ``rc_`` kind prefix, not the last 4
  characters the mask may show): a truncated or partly masked copy is a leak as well.

Files are searched as raw bytes and, where a format hides text from a byte search, decoded as well: PNG text
chunks (zTXt/iTXt may be compressed), SVG text with the tags stripped (spans can split words), SQLite rows.
"""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

from PIL import Image

WINDOW = 10


def b64_cores(secret: bytes) -> set[bytes]:
    """The base64 characters that depend only on ``secret``, at each alignment inside a longer stream."""
    cores = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for shift in range(3):
            encoded = encode(b"\0" * shift + secret)
            whole_groups = (shift + len(secret)) // 3
            cores.add(encoded[4 if shift else 0 : 4 * whole_groups])
    return cores


def needles(token: str, *, public_prefix: str = "rc_") -> dict[str, bytes]:
    """name -> bytes to look for (lower-cased where the search is case-insensitive)."""
    raw = token.encode()
    found: dict[str, bytes] = {"token": raw.lower()}
    for name, form in (("quote", quote(token, safe="")), ("quote_plus", quote_plus(token))):
        found[f"url:{name}"] = form.encode().lower()
    for n, core in enumerate(sorted(b64_cores(raw))):
        found[f"base64#{n}"] = core
    middle = token[len(public_prefix) if token.startswith(public_prefix) else 0 : -4]
    for i in range(len(middle) - WINDOW + 1):
        found[f"part[{i}:{i + WINDOW}]"] = middle[i : i + WINDOW].encode().lower()
    return found


@dataclass
class Scan:
    """Counts what was searched and keeps every hit as ``(where, which form)``."""

    token: str
    files: int = 0
    nbytes: int = 0
    texts: int = 0
    hits: list[tuple[str, str]] = field(default_factory=list)
    #: where -> the text around its first hit, for the failure message
    context: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._needles = needles(self.token)

    def data(self, where: str, data: bytes) -> None:
        self.nbytes += len(data)
        lowered = data.lower()
        for name, needle in self._needles.items():
            haystack = data if name.startswith("base64") else lowered
            at = haystack.find(needle)
            if at >= 0:
                self.hits.append((where, name))
                if where not in self.context:
                    self.context[where] = data[max(0, at - 60) : at + len(needle) + 20].decode("utf-8", "replace")

    def text(self, where: str, text: str) -> None:
        self.texts += 1
        self.data(where, text.encode("utf-8", "surrogatepass"))

    def texts_of(self, where: str, items: Iterable[str]) -> None:
        for n, item in enumerate(items):
            self.text(f"{where}[{n}]", item)

    def file(self, path: Path, label: str) -> None:
        """Raw bytes, plus the decoded view of formats that can hide text from a byte search."""
        data = path.read_bytes()
        self.files += 1
        self.data(label, data)
        suffix = path.suffix.lower()
        if data.startswith(b"\x89PNG") or suffix in (".png", ".jpg", ".jpeg", ".webp", ".gif"):
            self._image_text(label, data)
        if suffix == ".svg":
            plain = html.unescape(re.sub(r"<[^>]+>", "", data.decode("utf-8", "replace")))
            self.text(f"{label} (svg text)", re.sub(r"\s+", "", plain))
        if data.startswith(b"SQLite format 3\x00"):
            self._sqlite_rows(label, path)

    def _image_text(self, label: str, data: bytes) -> None:
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                chunks = dict(getattr(img, "text", {}) or {})
                info = {k: v for k, v in img.info.items() if isinstance(v, str | bytes)}
        except (OSError, ValueError):
            return
        for key, value in {**info, **chunks}.items():
            text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            self.text(f"{label} (image text {key!r})", f"{key}={text}")

    def _sqlite_rows(self, label: str, path: Path) -> None:
        """Every row as SQL text, read through SQLite (so the WAL's newest pages are included).

        A copy is opened, never the app's file: opening it would create or change its -wal/-shm."""
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "copy.sqlite3"
            shutil.copyfile(path, copy)
            wal = path.with_name(path.name + "-wal")
            if wal.exists():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
            db = sqlite3.connect(copy)
            try:
                self.text(f"{label} (rows)", "\n".join(db.iterdump()))
            finally:
                db.close()

    def tree(self, root: Path, *, skip: Iterable[Path] = (), label: str = "") -> list[Path]:
        """Every regular file under ``root`` except ``skip``; returns the files searched."""
        skipped = {p.resolve() for p in skip}
        done = []
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.resolve() not in skipped:
                self.file(path, label + str(path.relative_to(root)))
                done.append(path)
        return done

    def summary(self) -> str:
        places = sorted({w for w, _ in self.hits})
        lines = [f"the token was found {len(self.hits)} times in {len(places)} places:"]
        for where in places[:15]:
            forms = sorted({n for w, n in self.hits if w == where})
            lines.append(f"- {where} ({len(forms)} forms, e.g. {forms[0]}): …{self.context[where]!r}…")
        return "\n".join(lines)
