"""R2D2/BT-shaped episodes for sequence adders, and what adders write of them.

Steps have a nested observation and extras (an LSTM state and a flag), as the
programs' actors write them; `write_and_read` runs an adder over episodes
against a fresh server with two queue tables and reads both back in order.
`AcmeSequenceAdderCases` runs Acme's own SequenceAdder test cases through an
adder.
"""

from typing import Any, Callable, Dict, List, Sequence, Tuple

from absl.testing import parameterized
from acme.adders import reverb as adders
from acme.adders.reverb import test_cases as acme_adder_test_cases
from acme.adders.reverb import test_utils as acme_adder_test_utils
import dm_env
import numpy as np
import reverb

from behavior_transfer.acting import sequence_rows
from tests.helpers import reverb_queue

# Acme's cases whose episode ends the package's adders write.
SUPPORTED_CASES = [
    case for case in acme_adder_test_cases.TEST_CASES_FOR_SEQUENCE_ADDER
    if case.get('end_behavior', adders.EndBehavior.ZERO_PAD)
    in sequence_rows.SUPPORTED_END_BEHAVIORS]


class AcmeSequenceAdderCases(acme_adder_test_utils.AdderTestMixin,
                             parameterized.TestCase):
  """Acme's SequenceAdder test cases (items, their signature and replay's
  episode count) through `make_adder`, which subclasses define."""

  def make_adder(self, client: reverb.Client, sequence_length: int,
                 period: int, end_behavior: adders.EndBehavior):
    raise NotImplementedError

  @parameterized.named_parameters(*SUPPORTED_CASES)
  def test_adder(self, sequence_length, period, first, steps,
                 expected_sequences,
                 end_behavior=adders.EndBehavior.ZERO_PAD,
                 repeat_episode_times=1):
    self.run_test_adder(
        adder=self.make_adder(self.client, sequence_length, period,
                              end_behavior),
        first=first, steps=steps, expected_items=expected_sequences,
        repeat_episode_times=repeat_episode_times, end_behavior=end_behavior,
        signature=adders.SequenceAdder.signature(
            *acme_adder_test_utils.get_specs(steps[0])))

TABLES = ('table_a', 'table_b')
Episode = Tuple[dm_env.TimeStep, List[Tuple[Any, dm_env.TimeStep, Any]]]


def episode(length: int, seed: int) -> Episode:
  """An episode of `length` steps: (first timestep, [(action, timestep,
  extras)])."""
  rng = np.random.RandomState(seed)

  def observation():
    return {'pixels': rng.rand(2, 3).astype(np.float32),
            'count': np.int32(rng.randint(100))}

  first = dm_env.restart(observation())
  steps = []
  for t in range(length):
    extras = {'core_state': (rng.rand(4).astype(np.float32),
                             rng.rand(4).astype(np.float32)),
              'in_flight': np.bool_(rng.rand() < 0.5)}
    make = dm_env.termination if t == length - 1 else dm_env.transition
    steps.append((np.int32(rng.randint(5)),
                  make(np.float32(rng.rand()), observation()), extras))
  return first, steps


def write_and_read(make_adder: Callable[[reverb.Client], Any],
                   episodes: Sequence[Episode],
                   sequence_length: int) -> Dict[str, List[Any]]:
  """Each table's items (flat lists of arrays), in insertion order, after
  `make_adder(client)` wrote `episodes` one after another."""
  server = reverb.Server([reverb.Table.queue(table, 10_000)
                          for table in TABLES])
  client = reverb.Client(f'localhost:{server.port}')
  try:
    adder = make_adder(client)
    for first, steps in episodes:
      adder.add_first(first)
      for action, timestep, extras in steps:
        adder.add(action, timestep, extras)
    del adder  # Flushes what is in flight.
    read = {table: [sample.data for sample in
                    reverb_queue.read_in_order(client, table)]
            for table in TABLES}
  finally:
    server.stop()
  for items in read.values():
    for item in items:
      assert all(len(column) == sequence_length for column in item)
  return read


def assert_same_items(written: Sequence[Any], expected: Sequence[Any]) -> None:
  """Item for item, the same columns, dtypes and values."""
  assert len(written) == len(expected) > 0
  for got, want in zip(written, expected):
    assert len(got) == len(want)
    for got_column, want_column in zip(got, want):
      assert got_column.dtype == want_column.dtype
      np.testing.assert_array_equal(got_column, want_column)
