"""Per-node loggers: CSV files in the run directory plus throttled terminal lines.

Each node logs a fixed list of columns, so that a CSV keeps one header when
counts from other nodes appear later and when a resumed run appends to it. A
run resumed by code that logs other columns (a task added since, say) first
rewrites the CSV under the new header: earlier rows keep their values, with
blanks in columns they did not have.
"""

import csv
import os
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


def match_header(path: str, columns: Sequence[str]) -> None:
  """Rewrites the CSV at `path`, if it exists, under the header Acme's
  CSVLogger writes for `columns` (sorted), so appended rows line up."""
  if not os.path.exists(path):
    return
  header = sorted(columns)
  with open(path, newline='') as f:
    rows = list(csv.reader(f))
  if not rows or rows[0] == header:
    return
  old = rows[0]
  kept = [dict(zip(old, row)) for row in rows[1:] if len(row) == len(old)]
  staging = path + '.tmp'
  with open(staging, 'w', newline='') as f:
    writer = csv.DictWriter(f, header, restval='', extrasaction='ignore')
    writer.writeheader()
    writer.writerows(kept)
  os.replace(staging, path)


def make_logger(run_dir: str, label: str, columns: Sequence[str],
                print_every_seconds: float = 10.) -> loggers.Logger:
  """Logs `columns` to <run_dir>/logs/<label>/logs.csv; prints periodically."""
  terminal = loggers.TerminalLogger(
      label=label, print_fn=logging.info, time_delta=print_every_seconds)
  match_header(os.path.join(run_dir, 'logs', label, 'logs.csv'), columns)
  csv_logger = loggers.CSVLogger(run_dir, label=label, add_uid=False,
                                 flush_every=1)
  return FixedColumns(
      loggers.Dispatcher([terminal, csv_logger], loggers.to_numpy), columns)

