"""Per-node loggers: CSV files in the run directory plus throttled terminal lines."""

import os

from absl import logging
from acme.utils import loggers


def make_logger(run_dir: str, label: str,
                print_every_seconds: float = 10.) -> loggers.Logger:
  """Logs every write to <run_dir>/logs/<label>/logs.csv; prints periodically."""
  terminal = loggers.TerminalLogger(
      label=label, print_fn=logging.info, time_delta=print_every_seconds)
  csv = loggers.CSVLogger(
      os.path.join(run_dir), label=label, add_uid=False, flush_every=1)
  return loggers.Dispatcher([terminal, csv], loggers.to_numpy)


def csv_path(run_dir: str, label: str) -> str:
  """Where `make_logger(run_dir, label)` writes its CSV."""
  return os.path.join(run_dir, 'logs', label, 'logs.csv')
