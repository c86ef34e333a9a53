"""The programme file (spec/programme.md as settings)."""

from toprated.programme.model import Programme, load_programme

__all__ = ["Programme", "load_programme"]
