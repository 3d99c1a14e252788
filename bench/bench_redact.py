"""How long hiding the token takes (any run of 8 of its characters, issue 19): every server answer passes
through it before anything reads it. Prints milliseconds per answer for answer sizes a server sends, and for
texts made to be slow (full of the token's 4-character pieces, or of the token itself).

    PYTHONPATH=. python bench/bench_redact.py
"""

from __future__ import annotations

import json
import random
import string
import time

from seedream_tui.api.client import redact

TOKEN = "rc-" + "".join(random.Random(1).choices(string.ascii_letters + string.digits, k=25))


def _answer(size: int) -> str:
    rng = random.Random(size)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(size // 6)]
    return json.dumps({"status": "failed", "error": " ".join(words)[:size]})


def _time(text: str, rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        redact(text, TOKEN)
    return (time.perf_counter() - start) / rounds * 1000


def main() -> None:
    cases = {
        "answer 1 KB": _answer(1_000),
        "answer 100 KB": _answer(100_000),
        "answer 2 MB": _answer(2_000_000),
        "2 MB of the token's 4-character pieces": (TOKEN[:4] + "zzzz ") * 400_000,
        "2 MB of 7-character runs": (TOKEN[:7] + "z") * 250_000,
        "2 MB of the token": TOKEN * 71_500,
        "2 MB of 20-character pieces of the token": (TOKEN[:20] + " ") * 95_000,
    }
    for name, text in cases.items():
        rounds = max(1, 2_000_000 // len(text))
        print(f"{name:<42} {_time(text, min(rounds, 200)):9.2f} ms")


if __name__ == "__main__":
    main()
