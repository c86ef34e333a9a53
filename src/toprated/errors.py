"""Errors a user can cause and fix. The CLI prints them without a traceback and exits non-zero."""

from __future__ import annotations


class UserError(Exception):
    """Bad input, a bad option or an unusable store: the message says what and where."""

    exit_code = 2


class RejectedEvents(UserError):
    """Some events were rejected (each was already reported); the valid ones were kept."""

    exit_code = 1
