"""Messages shared by the app, its screens and widgets.

Kept in one small module so screens written by different people agree on the names.
"""

from __future__ import annotations

from textual.message import Message

from seedream_tui.jobs.model import Job


class JobChanged(Message, bubble=False):
    """A job changed in the core (status, queue position, outputs...).

    Posted by the app for every core callback. Only the newest state of a job matters, so a pending
    message for the same job id is replaced (coalescing high-rate polling updates). It does not bubble: the
    app posts one copy to each open screen itself, and a bubbling copy would come back to the app.
    """

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, JobChanged) and message.job.id == self.job.id


class LoadIntoEditor(Message):
    """Ask the main screen to load this job's model and inputs into the prompt editor and options panel.

    Screens may post it (it bubbles to the app) or dismiss with a `LoadIntoEditor` as their result.
    """

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job


class EditResult(Message):
    """Ask the app to open an edit model of the job's family with the job's result as its input image.

    Screens dismiss with an ``EditResult`` as their result (the detail screen's ``e``).
    """

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job


class AnimateResult(Message):
    """Ask the app to open an image-to-video model of the job's family with the job's result as its input."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job


class JobsDeleted(Message, bubble=False):
    """Jobs were deleted from the history: every view drops them at once.

    Posted to the app (by the screen that deleted them); the app forwards one copy to each open screen,
    as it does with ``JobChanged``.
    """

    def __init__(self, job_ids: tuple[int, ...]) -> None:
        super().__init__()
        self.job_ids = job_ids


class Alerted(Message, bubble=False):
    """The app rang the bell and sent a desktop notification with ``text`` (a job finished or failed)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
