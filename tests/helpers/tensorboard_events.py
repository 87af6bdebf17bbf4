"""Reads back what a node wrote to TensorBoard: one row per event."""

import glob
import os
import time

import pandas as pd
import tensorflow as tf


def read_scalars(directory: str) -> pd.DataFrame:
  """Every scalar event under `directory`: a 'step' column and one column
  per tag, one row per logged row, in the order written."""
  rows = []
  for path in sorted(glob.glob(os.path.join(directory,
                                            'events.out.tfevents.*'))):
    try:
      for event in tf.compat.v1.train.summary_iterator(path):
        if event.summary.value:
          rows.append({'step': event.step, **{
              value.tag: value.simple_value for value in event.summary.value}})
    except tf.errors.DataLossError:  # A record still being written.
      pass
  return pd.DataFrame(rows)


def wait_for_rows(directory: str, count: int,
                  timeout_seconds: float = 10.) -> pd.DataFrame:
  """`read_scalars` once it holds `count` rows (the writer flushes from a
  background thread every few seconds), or what it holds at the timeout."""
  deadline = time.time() + timeout_seconds
  while True:
    frame = read_scalars(directory)
    if len(frame) >= count or time.time() > deadline:
      return frame
    time.sleep(0.5)
