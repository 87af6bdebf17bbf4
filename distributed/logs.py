"""Per-node loggers: CSV files and TensorBoard event files in the run
directory, plus throttled terminal lines.

Each node logs a fixed list of columns, so that a CSV keeps one header when
counts from other nodes appear later and when a resumed run appends to it. A
run resumed by code that logs other columns (a task added since, say) first
rewrites the CSV under the new header: earlier rows keep their values, with
blanks in columns they did not have.

The CSV files are the record reports and resumed runs read; the same rows go
to TensorBoard (`tensorboard --logdir <run_dir>`), each numeric column a
scalar at the row's actor steps (learner: learner steps), written from a
background thread every few seconds.
"""

import csv
import numbers
import os
import time
from typing import Optional, Sequence

from absl import logging
from acme.utils import loggers
import numpy as np
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto import summary_pb2
from tensorboard.summary.writer import event_file_writer

# Seconds between TensorBoard flushes: the curves lag a run by at most this.
TENSORBOARD_FLUSH_SECONDS = 2


class FixedColumns(loggers.Logger):
  """Passes on exactly `columns`, with 0 for any not (yet) in the data."""

  def __init__(self, to: loggers.Logger, columns: Sequence[str]):
    self._to = to
    self._columns = tuple(columns)

  def write(self, data: loggers.LoggingData):
    self._to.write({k: data.get(k, 0) for k in self._columns})

  def close(self):
    self._to.close()


class TensorBoardLogger(loggers.Logger):
  """Writes each row's numeric values as TensorBoard scalars at the row's
  `steps_key` count. Plain protocol buffers, no TF ops: cheap per row."""

  def __init__(self, logdir: str, steps_key: str):
    self._writer = event_file_writer.EventFileWriter(
        logdir, flush_secs=TENSORBOARD_FLUSH_SECONDS)
    self._steps_key = steps_key

  def write(self, data: loggers.LoggingData):
    values = [summary_pb2.Summary.Value(tag=key, simple_value=float(value))
              for key, value in data.items()
              if key != self._steps_key and _is_number(value)]
    self._writer.add_event(event_pb2.Event(
        wall_time=time.time(), step=int(data.get(self._steps_key, 0)),
        summary=summary_pb2.Summary(value=values)))

  def flush(self):
    self._writer.flush()

  def close(self):
    self._writer.close()


def _is_number(value) -> bool:
  return isinstance(value, (numbers.Number, np.number)) or (
      isinstance(value, np.ndarray) and value.ndim == 0)


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
  """Logs `columns` to <run_dir>/logs/<label>/logs.csv and TensorBoard event
  files beside it; prints periodically."""
  directory = os.path.join(run_dir, 'logs', label)
  terminal = loggers.TerminalLogger(
      label=label, print_fn=logging.info, time_delta=print_every_seconds)
  match_header(os.path.join(directory, 'logs.csv'), columns)
  csv_logger = loggers.CSVLogger(run_dir, label=label, add_uid=False,
                                 flush_every=1)
  tensorboard = TensorBoardLogger(
      directory, 'learner_steps' if label == 'learner' else 'actor_steps')
  return FixedColumns(
      loggers.Dispatcher([terminal, csv_logger, tensorboard],
                         loggers.to_numpy), columns)



def recent_mean(run_dir: str, label: str, column: str,
                episodes: int = 10) -> Optional[float]:
  """Mean of `column` over the last `episodes` rows of a node's CSV log;
  None while the log or the column does not exist yet."""
  path = os.path.join(run_dir, 'logs', label, 'logs.csv')
  try:
    with open(path, newline='') as f:
      rows = list(csv.DictReader(f))[-episodes:]
  except (OSError, csv.Error):
    return None
  values = [float(row[column]) for row in rows if row.get(column)]
  return sum(values) / len(values) if values else None
