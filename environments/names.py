"""Checks names against the valid ones, suggesting close matches on a typo."""

import difflib
from typing import Iterable


def check_name(kind: str, name: str, valid: Iterable[str]) -> str:
  """Returns `name` if valid; otherwise raises a ValueError naming the options."""
  valid = sorted(valid)
  if name in valid:
    return name
  close = difflib.get_close_matches(name, valid, n=5, cutoff=0.5)
  hint = (f' Close valid names: {", ".join(close)}.' if close else
          f' Valid names: {", ".join(valid)}.')
  raise ValueError(f'Unknown {kind} {name!r}.{hint}')
