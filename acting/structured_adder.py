"""A sequence adder whose items Reverb builds in C++: one environment's writer.

Acme's `SequenceAdder` writes each step through Reverb's `TrajectoryWriter`
in two partial appends of nested dicts, and slices every column's history in
Python to make each item: about 100 us of Python per environment step, paid
by every actor. `StructuredSequenceAdder` writes the same items, item for item
(Acme's own SequenceAdder test cases run through it), with one flat append
per step to Reverb's `StructuredWriter`, which makes the items in C++ from
patterns fixed when the writer is built:

* rows, and when items are due, are `sequence_rows`'s (shared with the
  adders of `whole_sequence_adder`);
* the sequence pattern takes the last `sequence_length` rows, on the row
  where Acme's adder writes: row index `sequence_length - 1`, then every
  `period` rows;
* at an episode's end the final and padding rows are appended, and a second
  pattern, applied only by `end_episode`, writes the last sequence. A
  padding flag appended with each row (never written to replay) keeps the
  final and padding rows from triggering the sequence pattern.

Items enter replay with one priority, `initial_priority` (1.0, as Acme's
adders without priority functions write, unless set); the learner sets each
from its TD errors once it samples it.
"""

from typing import List, Mapping, Optional

from acme import adders as acme_adders
from acme.adders.reverb import base
from acme.adders.reverb import sequence
import numpy as np
import reverb
from reverb import structured_writer

from behavior_transfer.acting import sequence_rows

EndBehavior = sequence_rows.EndBehavior
SUPPORTED_END_BEHAVIORS = sequence_rows.SUPPORTED_END_BEHAVIORS


class StructuredSequenceAdder(sequence_rows.SequenceRowAdder):
  """Writes fixed-length sequences of steps, like Acme's SequenceAdder."""

  def __init__(self, client: reverb.Client, sequence_length: int, period: int,
               *, priority_fns: Optional[Mapping[str, None]] = None,
               max_in_flight_items: int = 2,
               end_of_episode_behavior: EndBehavior = EndBehavior.ZERO_PAD,
               initial_priority: float = 1.0):
    """Arguments as `acme.adders.reverb.SequenceAdder`'s. `priority_fns` maps
    table names to None (every item gets `initial_priority`); a priority
    function, and the end behaviours that write sequences shorter than
    `sequence_length` or across episodes, need the trajectory in Python: use
    Acme's adder for those."""
    tables = dict(priority_fns or {base.DEFAULT_PRIORITY_TABLE: None})
    with_functions = sorted(name for name, fn in tables.items() if fn)
    if with_functions:
      raise ValueError(
          f'StructuredSequenceAdder writes priority {initial_priority}; tables '
          f'{with_functions} have priority functions: use '
          'acme.adders.reverb.SequenceAdder.')
    if not initial_priority > 0:
      raise ValueError(
          f'initial_priority must be positive, got {initial_priority}.')
    super().__init__(sequence_length, period, end_of_episode_behavior)
    self._client = client
    self._tables = sorted(tables)
    self._max_in_flight_items = max_in_flight_items
    self._initial_priority = float(initial_priority)
    self._writer: Optional[structured_writer.StructuredWriter] = None
    self._zero_row: Optional[List[np.ndarray]] = None

  def _make_writer(self, row_length: int) -> structured_writer.StructuredWriter:
    """The writer and its patterns, for rows of `row_length` values (the last
    one the padding flag)."""
    reference = structured_writer.create_reference_step([None] * row_length)
    last_rows = [column[-self._sequence_length:]
                 for column in reference[:-1]]
    condition = structured_writer.Condition
    is_padding = condition.data([None] * row_length)[-1]
    first_item = self._sequence_length - 1
    during_episode = [
        condition.step_index() >= first_item,
        condition.step_index() % self._period == first_item % self._period,
        is_padding == 0,
    ]
    # Only the end of an episode, not a reset mid-episode, writes its last
    # sequence: the last row appended then is the final or a padding row.
    at_episode_end = [condition.is_end_episode(),
                      condition.step_index() >= first_item,
                      is_padding == 1]
    configs = [structured_writer.create_config(last_rows, table, conditions)
               for table in self._tables
               for conditions in (during_episode, at_episode_end)]
    for config in configs:
      config.priority = self._initial_priority
    return self._client.structured_writer(configs)

  def _add_row(self, row: List) -> None:
    if self._writer is None:
      self._writer = self._make_writer(len(row) + 1)
      self._zero_row = [np.zeros_like(value) for value in row]
    self._append([*row, False])

  def _append(self, row: List) -> None:
    """Appends a row and its padding flag (last)."""
    self._writer.append(row)
    self._rows += 1
    if not row[-1] and self._item_due(self._rows - 1):
      # An item was made: bound the items in flight, as Acme's adder does.
      self._writer.flush(self._max_in_flight_items)

  def _end_episode(self, final_observation: List) -> None:
    self._append([*final_observation,
                  *self._zero_row[len(final_observation):], True])
    for _ in range(self._padding(self._rows)):
      self._append([*self._zero_row, True])
    self._writer.end_episode(clear_buffers=True)

  def reset(self, timeout_ms: Optional[int] = None):
    """Ends the episode in progress without writing its last sequence."""
    if self._writer is not None and self._observation is not None:
      self._writer.end_episode(clear_buffers=True, timeout_ms=timeout_ms)
    self._observation = None

  def __del__(self):
    writer = getattr(self, '_writer', None)  # None if __init__ refused.
    if writer is not None:
      try:
        writer.flush(0, timeout_ms=10_000)
      except reverb.DeadlineExceededError:
        pass  # Reverb goes on inserting in the background.


def make_sequence_adder(client: reverb.Client, sequence_length: int,
                        period: int, initial_priority: float = 1.0,
                        **sequence_adder_kwargs) -> acme_adders.Adder:
  """The cheapest adder that writes what Acme's SequenceAdder would with
  these arguments (every argument of `acme.adders.reverb.SequenceAdder`):
  this module's adder, or Acme's own for what needs the trajectory in Python
  (priority functions, sequences cut short or across episodes, delta
  encoding). Items enter replay with `initial_priority` (Acme's: 1.0);
  another needs this module's adder."""
  priority_fns = sequence_adder_kwargs.get('priority_fns') or {}
  structured = (
      set(sequence_adder_kwargs) <= {'priority_fns', 'max_in_flight_items',
                                     'end_of_episode_behavior'}
      and not any(priority_fns.values())
      and sequence_adder_kwargs.get('end_of_episode_behavior',
                                    EndBehavior.ZERO_PAD)
      in SUPPORTED_END_BEHAVIORS)
  if structured:
    return StructuredSequenceAdder(client, sequence_length, period,
                                   initial_priority=initial_priority,
                                   **sequence_adder_kwargs)
  if initial_priority != 1.0:
    raise ValueError(
        f'initial_priority {initial_priority} needs the structured adder, '
        f'which these arguments rule out ({sorted(sequence_adder_kwargs)}); '
        'give Acme\'s adder priority functions instead.')
  return sequence.SequenceAdder(client, sequence_length, period,
                                **sequence_adder_kwargs)
