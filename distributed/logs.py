"""Per-node loggers: CSV files in the run directory plus throttled terminal lines.

Each node logs a fixed list of columns, so that a CSV keeps one header when
counts from other nodes appear later and when a resumed run appends to it.
"""

from typing import Sequence

from absl import logging
from acme.utils import loggers


class FixedColumns(loggers.Logger):
  """Passes on exactly `columns`, with 0 for any not (yet) in the data."""

  def __init__(self, to: loggers.Logger, columns: Sequence[str]):
    self._to = to
    self._columns = tuple(columns)

  def write(self, data: loggers.LoggingData):
    self._to.write({k: data.get(k, 0) for k in self._columns})

  def close(self):
    self._to.close()


def make_logger(run_dir: str, label: str, columns: Sequence[str],
                print_every_seconds: float = 10.) -> loggers.Logger:
  """Logs `columns` to <run_dir>/logs/<label>/logs.csv; prints periodically."""
  terminal = loggers.TerminalLogger(
      label=label, print_fn=logging.info, time_delta=print_every_seconds)
  csv = loggers.CSVLogger(run_dir, label=label, add_uid=False, flush_every=1)
  return FixedColumns(loggers.Dispatcher([terminal, csv], loggers.to_numpy),
                      columns)

