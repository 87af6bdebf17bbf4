"""Sequence adders that share one replay writer: a batched actor's writer.

`structured_adder.StructuredSequenceAdder` appends every step to a Reverb
writer of its own, and each writer has its own stream and worker thread: an
actor node over 32 environments runs 32 of them, and switching between those
threads, their allocations and locks cost more than the data they move.
Here each environment's `WholeSequenceAdder` keeps its episode's latest
`sequence_length` rows in numpy (a ring buffer, one array per field) and,
when an item is due, hands the whole sequence to a `SequenceWriter` that all
the node's adders share: one Reverb `TrajectoryWriter`, one stream, one
worker thread. The items are Acme's `SequenceAdder`'s, item for item (Acme's
own SequenceAdder test cases run through it); each is sent as one chunk of
its own, so a step travels to replay and is stored once per item that holds
it (sequence_length / period times: 3.025 for R2D2's 121-step sequences
every 40 steps), where the structured writer's items share chunks. An actor
of one environment gains nothing from sharing and keeps the structured
adder (`make_sequence_adders`).

Replay counts episodes by the episode ids of its items' chunks: every
adder's episode end starts a new id on the shared writer, so the count is
the node's episode ends, not each environment's episodes apart.

Rows, when items are due and how episodes end are `sequence_rows`'s, as in
the structured adder.
"""

from typing import Any, List, Mapping, Optional, Sequence

from acme import adders as acme_adders
from acme.adders.reverb import base
import numpy as np
import reverb

from behavior_transfer.acting import sequence_rows
from behavior_transfer.acting import structured_adder

EndBehavior = sequence_rows.EndBehavior


class SequenceWriter:
  """One Reverb writer through which several adders insert whole sequences.

  Each `write` appends one sequence (a flat list of [sequence_length, ...]
  arrays) as one step and makes an item of it in every table, with one
  priority; at most `max_in_flight_items` items wait for the server (the
  tables' rate limiters hold the adders back through it).
  """

  def __init__(self, client: reverb.Client, tables: Sequence[str],
               priority: float, max_in_flight_items: int):
    if not priority > 0:
      raise ValueError(f'initial_priority must be positive, got {priority}.')
    if max_in_flight_items < 1:
      raise ValueError('max_in_flight_items must be positive, got '
                       f'{max_in_flight_items}.')
    self._client = client
    self._tables = list(tables)
    self._priority = float(priority)
    self._max_in_flight_items = max_in_flight_items
    self._writer: Optional[reverb.TrajectoryWriter] = None

  def write(self, sequence_fields: List[np.ndarray]) -> None:
    if self._writer is None:  # Connects on the first write, as Acme's adders.
      self._writer = self._client.trajectory_writer(num_keep_alive_refs=1)
    self._writer.append(sequence_fields)
    item = [column[-1] for column in self._writer.history]
    for table in self._tables:
      self._writer.create_item(table, self._priority, item)
    self._writer.flush(self._max_in_flight_items)

  def end_episode(self) -> None:
    """Starts a new episode id for the items that follow (replay counts
    episodes by their ids)."""
    if self._writer is not None:
      self._writer.end_episode(clear_buffers=True)

  def __del__(self):
    writer = getattr(self, '_writer', None)
    if writer is not None:
      try:
        writer.flush(0, timeout_ms=10_000)
      except reverb.DeadlineExceededError:
        pass  # Reverb goes on inserting in the background.


class WholeSequenceAdder(sequence_rows.SequenceRowAdder):
  """Writes fixed-length sequences of steps, like Acme's SequenceAdder,
  through a `SequenceWriter` it may share with other adders."""

  def __init__(self, writer: SequenceWriter, sequence_length: int, period: int,
               end_of_episode_behavior: EndBehavior = EndBehavior.ZERO_PAD):
    super().__init__(sequence_length, period, end_of_episode_behavior)
    self._writer = writer
    # One [sequence_length, ...] ring buffer per field of a row.
    self._buffers: Optional[List[np.ndarray]] = None

  def _add_row(self, row: List[Any]) -> None:
    if self._buffers is None:
      self._buffers = [
          np.zeros((self._sequence_length,) + np.shape(value),
                   np.asarray(value).dtype) for value in row]
    position = self._rows % self._sequence_length
    for buffer, value in zip(self._buffers, row):
      buffer[position] = value
    self._rows += 1
    if self._item_due(self._rows - 1):
      self._write_last_rows()

  def _write_last_rows(self) -> None:
    """Writes the latest `sequence_length` rows as one item."""
    start = self._rows % self._sequence_length  # The oldest row's slot.
    self._writer.write([np.concatenate((buffer[start:], buffer[:start]))
                        for buffer in self._buffers])

  def _fill(self, fields: slice, count: int) -> None:
    """Writes `count` rows of zeros into `fields` of the next rows' slots."""
    length = self._sequence_length
    count = min(count, length)  # Older rows than one sequence are never read.
    start = self._rows % length
    end = start + count
    for buffer in self._buffers[fields]:
      buffer[start:min(end, length)] = 0
      if end > length:
        buffer[:end - length] = 0

  def _end_episode(self, final_observation: List[Any]) -> None:
    position = self._rows % self._sequence_length
    for buffer, value in zip(self._buffers, final_observation):
      buffer[position] = value
    self._fill(slice(len(final_observation), None), 1)
    self._rows += 1
    padding = self._padding(self._rows)
    self._fill(slice(None), padding)
    self._rows += padding
    if self._rows >= self._sequence_length:
      self._write_last_rows()
    self._writer.end_episode()

  def reset(self, timeout_ms: Optional[int] = None):
    """Ends the episode in progress without writing its last sequence."""
    del timeout_ms
    if self._observation is not None:
      self._writer.end_episode()
    self._observation = None


def shares_one_writer(num_environments: int) -> bool:
  """Whether an actor over `num_environments` environments writes through
  one shared writer (whole sequences): from two environments on. One
  environment keeps the structured adder, whose items share chunks."""
  return num_environments > 1


def make_sequence_adders(client: reverb.Client, count: int,
                         sequence_length: int, period: int,
                         initial_priority: float = 1.0,
                         priority_fns: Optional[Mapping[str, None]] = None,
                         max_in_flight_items: int = 2,
                         end_of_episode_behavior: EndBehavior = (
                             EndBehavior.ZERO_PAD),
                         share_writer: bool = True
                         ) -> List[acme_adders.Adder]:
  """The adders of an actor's `count` environments, each writing what Acme's
  `SequenceAdder` would with these arguments: for several environments
  `WholeSequenceAdder`s sharing one writer (`max_in_flight_items` is each
  adder's share, as in Acme's adder); for one, without `share_writer`, or
  for what needs the trajectory in Python (priority functions), one
  `structured_adder.make_sequence_adder` each."""
  tables = dict(priority_fns or {base.DEFAULT_PRIORITY_TABLE: None})
  if (not share_writer or not shares_one_writer(count) or
      any(tables.values())):
    return [structured_adder.make_sequence_adder(
        client, sequence_length, period, initial_priority=initial_priority,
        priority_fns=priority_fns, max_in_flight_items=max_in_flight_items,
        end_of_episode_behavior=end_of_episode_behavior)
            for _ in range(count)]
  writer = SequenceWriter(client, sorted(tables), initial_priority,
                          max_in_flight_items * count)
  return [WholeSequenceAdder(writer, sequence_length, period,
                             end_of_episode_behavior) for _ in range(count)]
