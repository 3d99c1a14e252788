"""One error path for every worker: a failure becomes a sentence in a toast and a traceback in the log.

Textual ends the app when a worker raises (``exit_on_error=True`` by default), and each worker used to pick
the exceptions it caught: the submit worker caught only ``ApiError``, so a busy history, a full disk or a
``RecursionError`` ended the app. Here, as in harlequin, no worker may end the app:

* the app's worker manager (``compat.route_worker_failures``: every node's ``run_worker`` and ``@work`` go
  through it) turns ``exit_on_error`` off for every worker, whatever its decorator says, and hands the
  ``Worker.StateChanged`` of a failed worker that belongs to a screen or widget to the app as well (Textual
  posts it only to the worker's own node, without bubbling);
* the app's one ``@on(Worker.StateChanged)`` handler calls :func:`report_failure`, which logs the traceback
  and returns the sentence to show.

Workers still catch what they can say better themselves (an invalid input shown at its field); whatever
they do not catch ends here. Nothing but the user quits the app.
"""

from __future__ import annotations

import logging
from typing import Any

from textual.worker import Worker

log = logging.getLogger("seedream_tui.tui")

#: what the user was doing, by worker group (a sentence says "Could not <this>: <reason>."): every ``@work`` and
#: ``run_worker`` group of the TUI has one (tests/tui/test_worker_sentences.py walks them all)
ACTIONS = {
    # the app
    "core-open": "open the job history",
    "refresh-models": "refresh the models' schemas and prices",
    "count-done-today": "count today's finished jobs",
    "edit-result": "open the result for editing",
    "attach-request": "follow that request",
    "save-settings": "save the settings",
    # main screen
    "submit": "submit the job",
    "submit-batch": "submit the batch",
    "prompt-file": "read the prompt file",
    "cancel": "cancel the job",
    "queue": "read the local queue's state",
    "queue-action": "change the local queue",
    "main-load": "read the job history",
    "main-older": "read older jobs",
    "open-job": "open the job",
    # history
    "history-refresh": "refresh the history",
    "history-page": "read the history",
    "history-count": "count the jobs",
    "history-models": "list the models",
    "history-action": "finish that action",
    # other screens
    "detail-load": "read the job",
    "detail-cancel": "cancel the job",
    "detail-download-again": "download the images again",
    "viewer-load": "show the image",
    "viewer-video": "play the video",
    "spend-load": "add up what the jobs cost",
    "settings-save": "save the settings",
    "settings-token": "save the token",
    "catalog-search": "search the models",
    "catalog-more": "list more models",
    "catalog-categories": "list the model categories",
    "catalog-choose": "open that model",
    "sheet-read": "read the batch",
    "sheet-rerun": "run the batch again",
    "sheet-export": "export the batch",
    # widgets
    "preview-load": "show the image",
    "preview-image": "show the image",
    "field-thumbs": "show the input images",
    "gallery-thumbs": "show the thumbnails",
    "sheet-thumbs": "show the contact sheet's thumbnails",
}
#: a worker of no known group (Textual's own, the command palette's): still a sentence, never a function's name
UNKNOWN_ACTION = "finish a background task"


def reason(error: BaseException) -> str:
    """The cause of a failure in words: our own errors already are sentences; others get a plain reason."""
    if isinstance(error, OSError):
        text = error.strerror or str(error) or type(error).__name__
        return f"{text} ({error.filename})" if error.filename else text
    if isinstance(error, RecursionError):
        return "the data was nested too deeply to handle"
    if isinstance(error, MemoryError):
        return "the computer ran out of memory"
    text = str(error).strip().rstrip(".")
    if type(error).__module__.startswith("seedream_tui"):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def failure_sentence(worker: Worker[Any]) -> str:
    action = ACTIONS.get(worker.group, UNKNOWN_ACTION)
    error = worker.error
    cause = reason(error) if error is not None else "an unknown error"
    return f"Could not {action}: {cause}. Details are in the log file."


def report_failure(worker: Worker[Any]) -> str:
    """Log the failed worker's traceback; return the sentence for the user."""
    error = worker.error
    exc_info = (type(error), error, error.__traceback__) if error is not None else None
    log.error("worker %s (group %s) failed", worker.name, worker.group, exc_info=exc_info)
    return failure_sentence(worker)
