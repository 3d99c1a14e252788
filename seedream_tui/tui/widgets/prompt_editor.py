"""The prompt editor: a soft-wrapping TextArea with a word count and shell-like prompt history.

The word count sits in the border subtitle (no row spent on it) and turns into a warning past the
schema's soft limit (``FieldSpec.soft_max_words``, e.g. "about 600 words"). History recall walks
``history.recent_prompts()`` newest first; the text being written is kept and comes back at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import TextArea

from seedream_tui.schema import count_words


class PromptArea(TextArea):
    """The prompt TextArea with history recall bound to keys that survive tmux and SSH."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+up,f8", "history_older", "Older prompt", id="prompt-older", show=False, tooltip="Recall an older prompt"),
        Binding("ctrl+down,f9", "history_newer", "Newer prompt", id="prompt-newer", show=False, tooltip="Recall a newer prompt"),
        Binding("ctrl+l", "clear_prompt", "Clear", id="prompt-clear", show=False,
                tooltip="Clear the prompt (ctrl+z brings it back)"),
    ]

    class Recalled(Message):
        """A prompt was recalled from history (index 0 = newest), or -1 when back to the draft."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(
        self, text: str = "", *, soft_max_words: int | None = None, placeholder: str = "", id: str | None = None
    ) -> None:
        super().__init__(
            text, soft_wrap=True, id=id, tab_behavior="focus", show_line_numbers=False, placeholder=placeholder
        )
        self.soft_max_words = soft_max_words
        self._history: list[str] = []
        self._index = -1
        self._draft = ""
        self.border_title = "Prompt"

    def on_mount(self) -> None:
        self._update_count()

    # --- history ---------------------------------------------------------------------------------------
    def set_history(self, prompts: Sequence[str]) -> None:
        """Newest first. Consecutive duplicates of the current text are skipped when walking."""
        self._history = [p for p in prompts if p.strip()]
        self._index = -1

    def remember(self, prompt: str) -> None:
        """Put a just-submitted prompt at the top of the history."""
        if prompt.strip():
            self._history = [prompt, *[p for p in self._history if p != prompt]]
        self._index = -1

    def action_history_older(self) -> None:
        if self._index + 1 >= len(self._history):
            self.app.bell()
            return
        if self._index == -1:
            self._draft = self.text
        self._index += 1
        self._show_recalled()

    def action_history_newer(self) -> None:
        if self._index == -1:
            self.app.bell()
            return
        self._index -= 1
        self._show_recalled()

    def _show_recalled(self) -> None:
        text = self._draft if self._index == -1 else self._history[self._index]
        self.load_text(text)
        self.move_cursor(self.document.end)
        self.post_message(self.Recalled(self._index))

    def action_clear_prompt(self) -> None:
        """Empty the editor as one edit, so ctrl+z undoes it."""
        self.delete((0, 0), self.document.end)

    # --- word count --------------------------------------------------------------------------------------
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._update_count()

    def _update_count(self) -> None:
        words = count_words(self.text)
        limit = self.soft_max_words
        label = f"{words} word{'s' if words != 1 else ''}"
        if limit:
            if words > limit:
                label = f"[b $warning]{words}/{limit} words: long prompts lose detail[/]"
            else:
                label = f"{words}/{limit} words"
        if self._index >= 0:
            label = f"history {self._index + 1}/{len(self._history)} · {label}"
        self.border_subtitle = label
        self.set_class(bool(limit and words > limit), "-over-limit")

    @property
    def word_count(self) -> int:
        return count_words(self.text)
