"""Variants in a prompt (the Dynamic Prompts syntax): ``a {red|arctic} fox in {snow|fog}`` is four prompts.

The subset written here (the ``dynamicprompts`` library was measured and not used: its combinatorial
generator took 1.5 s for 4,000 prompts and over 30 s for 10,000, it cannot count without expanding, and it
turns ``\\{`` into a lone backslash):

- ``{a|b|c}``: one of the choices; a choice may be empty (``{big |}fox``) and may hold variants of its own
  (``{big {red|blue}|small}``: big red, big blue, small).
- ``{2$$a|b|c}``: two different choices joined by ``", "`` (a, b · a, c · b, c: combinations, in the order
  written, not permutations); ``{1-2$$a|b}`` any count from 1 to 2, ``{-2$$…}`` from 1 to 2,
  ``{2-$$…}`` from 2 to all; ``{2$$ and $$a|b|c}`` joins with " and " instead.
- ``\\{``, ``\\}``, ``\\|`` and ``\\\\`` write a literal brace, bar or backslash; any other backslash stays as
  written. A ``|`` outside braces is plain text.
- Not supported (left as plain text): wildcards (``__colors__``), variables (``${x=…}``), weights (``0.5::a``).

Identical texts are not merged: ``{a|a}`` makes two jobs. Everything is counted before anything is expanded
(:attr:`Template.count`), and any single prompt can be made from its number (:meth:`Template.nth`), so 10,000
or 10¹² combinations are refused or sampled at once, never built.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

#: braces nested deeper than this are refused (a sentence, not a recursion error)
MAX_DEPTH = 20
#: the joiner of ``{2$$a|b|c}``
DEFAULT_SEPARATOR = ", "

_QUANTITY = re.compile(r"\s*(\d+)?\s*(?:(-)\s*(\d+)?)?\s*\$\$")
_PLAIN = re.compile(r"[^\\{}|]+")
_ESCAPES = {"{": "{", "}": "}", "|": "|", "\\": "\\"}


class VariantError(ValueError):
    """A syntax error in a prompt's variants: ``str()`` is a sentence; ``column`` counts from 1."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.column = column



@dataclass(frozen=True, eq=False)
class Group:
    """``{…}``: its choices (each a sequence of text and groups), how many to pick, the joiner, its column."""

    options: tuple[tuple[str | Group, ...], ...]
    low: int = 1
    high: int = 1
    separator: str = DEFAULT_SEPARATOR
    column: int = 1
    #: how many texts it can make (filled in by __post_init__)
    count: int = field(default=0, init=False)
    #: each choice's number of texts, and e[k] = the number of texts made by picking k of them
    _option_counts: tuple[int, ...] = field(default=(), init=False, repr=False)
    _picks: tuple[int, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        counts = tuple(_seq_count(o) for o in self.options)
        picks = _elementary(counts, self.high)
        object.__setattr__(self, "_option_counts", counts)
        object.__setattr__(self, "_picks", picks)
        object.__setattr__(self, "count", sum(picks[k] for k in range(self.low, self.high + 1)))

    def texts(self) -> list[str]:
        """Every text it makes, in the order of :meth:`nth` (check :attr:`count` first)."""
        out: list[str] = []
        for k in range(self.low, self.high + 1):
            for chosen in itertools.combinations(self.options, k):
                for parts in itertools.product(*(_seq_texts(o) for o in chosen)):
                    out.append(self.separator.join(parts))
        return out

    def nth(self, index: int) -> str:
        """The ``index``-th text this group makes (0 <= index < count)."""
        if self.low == self.high == 1:  # the common case: one choice
            for option, n in zip(self.options, self._option_counts, strict=True):
                if index < n:
                    return _seq_nth(option, index)
                index -= n
            raise IndexError(index)
        for k in range(self.low, self.high + 1):
            block = self._picks[k]
            if index >= block:
                index -= block
                continue
            for chosen in itertools.combinations(range(len(self.options)), k):
                weight = math.prod(self._option_counts[i] for i in chosen)
                if index >= weight:
                    index -= weight
                    continue
                parts: list[str] = []
                for i in reversed(chosen):  # the last choice varies fastest, as itertools.product
                    index, inner = divmod(index, self._option_counts[i])
                    parts.append(_seq_nth(self.options[i], inner))
                return self.separator.join(reversed(parts))
        raise IndexError(index)


@dataclass(frozen=True, eq=False)
class Template:
    """A prompt read for variants: its parts (text and top-level groups) and how many prompts it makes."""

    parts: tuple[str | Group, ...]
    count: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "count", _seq_count(self.parts))

    @property
    def groups(self) -> tuple[Group, ...]:
        """The top-level ``{…}`` groups in order: the variant axes (``prompt{1}``, ``prompt{2}``, …)."""
        return tuple(p for p in self.parts if isinstance(p, Group))

    def indices(self, index: int) -> tuple[int, ...]:
        """Each top-level group's own index for the ``index``-th prompt (the last group varies fastest)."""
        out: list[int] = []
        for group in reversed(self.groups):
            index, inner = divmod(index, group.count)
            out.append(inner)
        return tuple(reversed(out))

    def nth(self, index: int) -> tuple[str, tuple[str, ...]]:
        """The ``index``-th prompt and each top-level group's choice in it."""
        if not 0 <= index < self.count:
            raise IndexError(index)
        picks = self.indices(index)
        chosen = tuple(g.nth(i) for g, i in zip(self.groups, picks, strict=True))
        it = iter(chosen)
        text = "".join(next(it) if isinstance(p, Group) else p for p in self.parts)
        return text, chosen

    def expand(self) -> list[tuple[str, tuple[str, ...]]]:
        """Every prompt with its groups' choices, in the order of :meth:`nth` (check :attr:`count` first)."""
        texts = [g.texts() for g in self.groups]
        out = []
        for chosen in itertools.product(*texts):
            it = iter(chosen)
            out.append(("".join(next(it) if isinstance(p, Group) else p for p in self.parts), chosen))
        return out


def has_variants(prompt: str) -> bool:
    """Whether ``prompt`` must be read for variants (only a ``{`` makes variants or escapes worth reading)."""
    return "{" in prompt


def parse(prompt: str) -> Template:
    """Read ``prompt``'s variants; VariantError (a sentence with the column) when it is not well formed."""
    parts, end = _parse_seq(prompt, 0, 0, top=True)
    assert end == len(prompt)
    template = Template(tuple(parts))
    return template


# ---------------------------------------------------------------- parsing
def _parse_seq(text: str, pos: int, depth: int, *, top: bool) -> tuple[list[str | Group], int]:
    """Text and groups from ``pos`` up to a ``|`` or ``}`` of the enclosing group (or the end, at the top)."""
    parts: list[str | Group] = []
    buf: list[str] = []
    n = len(text)
    while pos < n:
        plain = _PLAIN.match(text, pos)
        if plain is not None:  # a run of plain text at once
            buf.append(plain.group())
            pos = plain.end()
            continue
        ch = text[pos]
        if ch == "\\" and pos + 1 < n and text[pos + 1] in _ESCAPES:
            buf.append(_ESCAPES[text[pos + 1]])
            pos += 2
            continue
        if ch == "{":
            if depth + 1 > MAX_DEPTH:
                raise VariantError(f"The variants are nested more than {MAX_DEPTH} deep at column {pos + 1}.",
                                   pos + 1)
            if buf:
                parts.append("".join(buf))
                buf = []
            group, pos = _parse_group(text, pos, depth + 1)
            parts.append(group)
            continue
        if ch == "}" and top:
            raise VariantError(f"The '}}' at column {pos + 1} closes no '{{' (write \\}} for a literal brace).",
                               pos + 1)
        if ch in "|}" and not top:
            break
        buf.append(ch)
        pos += 1
    if buf:
        parts.append("".join(buf))
    return parts, pos


def _parse_group(text: str, start: int, depth: int) -> tuple[Group, int]:
    """The group whose ``{`` is at ``start``; returns it and the position after its ``}``."""
    pos = start + 1
    low = high = 1
    separator = DEFAULT_SEPARATOR
    quantity = _QUANTITY.match(text, pos) if "$$" in text[pos:pos + 200] else None
    counted = False
    if quantity is not None and (quantity.group(1) or quantity.group(2)):
        counted = True
        first, dash, last = quantity.group(1), quantity.group(2), quantity.group(3)
        low = int(first) if first else 1
        high = int(last) if last else (-1 if dash else low)  # -1: all of them, known once read
        pos = quantity.end()
        sep_end = _separator_end(text, pos)
        if sep_end is not None:
            separator = _unescape(text[pos:sep_end])
            pos = sep_end + 2
    options: list[tuple[str | Group, ...]] = []
    while True:
        seq, pos = _parse_seq(text, pos, depth, top=False)
        options.append(tuple(seq))
        if pos >= len(text):
            raise VariantError(f"The '{{' at column {start + 1} is never closed: add a '}}' (or write \\{{ for a "
                               "literal brace).", start + 1)
        if text[pos] == "}":
            pos += 1
            break
        pos += 1  # a "|"
    if len(options) == 1 and not options[0]:
        raise VariantError(f"The variant at column {start + 1} has no choices: write them as {{a|b}} (or \\{{\\}} "
                           "for literal braces).", start + 1)
    if counted:
        if high == -1:
            high = len(options)
        if low > high:
            raise VariantError(f"The variant at column {start + 1} asks for {low} to {high} of its choices: the "
                               "first number must not be larger.", start + 1)
        if high > len(options):
            raise VariantError(f"The variant at column {start + 1} asks for {high} of its {len(options)} choices; "
                               f"it has only {len(options)}.", start + 1)
    return Group(tuple(options), low, high, separator, start + 1), pos


def _separator_end(text: str, pos: int) -> int | None:
    """Where the ``$$`` ending a custom joiner (``{2$$ and $$a|b}``) starts, if the joiner is there."""
    i = pos
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "{|}":
            return None
        if text.startswith("$$", i):
            return i
        i += 1
    return None


def _unescape(text: str) -> str:
    return re.sub(r"\\([{}|\\])", r"\1", text)


# ---------------------------------------------------------------- counting
def _seq_count(seq: Sequence[str | Group]) -> int:
    return math.prod(p.count for p in seq if isinstance(p, Group))


def _seq_nth(seq: Sequence[str | Group], index: int) -> str:
    groups = [p for p in seq if isinstance(p, Group)]
    chosen: list[str] = []
    for group in reversed(groups):
        index, inner = divmod(index, group.count)
        chosen.append(group.nth(inner))
    it = reversed(chosen)
    return "".join(next(it) if isinstance(p, Group) else p for p in seq)


def _seq_texts(seq: Sequence[str | Group]) -> list[str]:
    texts = [p.texts() for p in seq if isinstance(p, Group)]
    out = []
    for chosen in itertools.product(*texts):
        it = iter(chosen)
        out.append("".join(next(it) if isinstance(p, Group) else p for p in seq))
    return out


def _elementary(counts: Sequence[int], top: int) -> tuple[int, ...]:
    """e[k] for k in 0..top: the sum over every k-subset of the counts of their product (picking k choices,
    each of which may itself make several texts)."""
    e = [1] + [0] * max(top, 0)
    for c in counts:
        for k in range(min(top, len(counts)), 0, -1):
            e[k] += e[k - 1] * c
    return tuple(e)
