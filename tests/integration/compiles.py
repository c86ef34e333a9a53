"""Counting what a connection compiles while it keeps an evaluation's steps (`Scratch.keep`)."""

from __future__ import annotations

import ibis
import pytest

from toprated.evaluation.scratch import Scratch


def count_step_compiles(monkeypatch: pytest.MonkeyPatch, con: ibis.BaseBackend) -> list[int]:
    """A list whose last item grows by one at each compile `con` makes inside `Scratch.keep`: append
    a 0 to start counting a round (nothing is counted before). Reads (`fetch`, `to_pyarrow`) compile
    outside steps: not counted."""
    counts: list[int] = []
    in_step: list[bool] = []
    keep = Scratch.keep

    def keeping(self, obj):  # type: ignore[no-untyped-def]
        in_step.append(True)
        try:
            return keep(self, obj)
        finally:
            in_step.pop()

    compile_ = con.compile

    def counting(expr, *args, **kwargs):  # type: ignore[no-untyped-def]
        if counts:
            counts[-1] += bool(in_step)
        return compile_(expr, *args, **kwargs)

    monkeypatch.setattr(Scratch, "keep", keeping)
    monkeypatch.setattr(con, "compile", counting)
    return counts
