"""Adders sharing one writer write what Acme's SequenceAdder writes."""

from acme.adders import reverb as adders
import numpy as np
import pytest
import reverb

from behavior_transfer.acting import structured_adder
from behavior_transfer.acting import whole_sequence_adder
from behavior_transfer.agents import bt
from behavior_transfer.agents import r2d2
from tests.helpers import reverb_queue
from tests.helpers import sequence_items


def _adders(client, count, sequence_length, period, priority=1.,
            tables=('priority_table',), max_in_flight_items=2,
            end_behavior=adders.EndBehavior.ZERO_PAD):
  """`count` WholeSequenceAdders on one writer (one of them alone too)."""
  writer = whole_sequence_adder.SequenceWriter(
      client, tables, priority, max_in_flight_items * count)
  return [whole_sequence_adder.WholeSequenceAdder(
      writer, sequence_length, period, end_behavior) for _ in range(count)]


class AcmeSequenceAdderCasesTest(sequence_items.AcmeSequenceAdderCases):
  """Acme's own SequenceAdder test cases, through one WholeSequenceAdder."""

  def make_adder(self, client, sequence_length, period, end_behavior):
    return _adders(client, 1, sequence_length, period,
                   end_behavior=end_behavior)[0]


@pytest.mark.parametrize('sequence_length,period', [(5, 5), (6, 3), (4, 1),
                                                    (3, 5)])
def test_nested_steps_in_two_tables_match_acmes_adder(sequence_length, period):
  episodes = [sequence_items.episode(length, seed) for seed, length in
              enumerate([2, 13, sequence_length, 7, 1, 20, 3 * period + 1])]
  tables = dict.fromkeys(sequence_items.TABLES)

  def acme_adder(client):
    return adders.SequenceAdder(client, sequence_length, period,
                                priority_fns=tables)

  def whole(client):
    adder, = _adders(client, 1, sequence_length, period, tables=tables)
    return adder

  expected = sequence_items.write_and_read(acme_adder, episodes,
                                          sequence_length)
  written = sequence_items.write_and_read(whole, episodes, sequence_length)
  for table in tables:
    sequence_items.assert_same_items(written[table], expected[table])


def _interleave(adder_list, episodes_per_adder):
  """Steps every adder once per round, as a batched actor's environments
  step in lockstep, each starting its next episode when one ends."""
  queues = [[(kind, *step) for first, steps in episodes
             for kind, *step in [('first', first)] + [('add', *s) for s in steps]]
            for episodes in episodes_per_adder]
  while any(queues):
    for adder, queue in zip(adder_list, queues):
      if queue:
        kind, *step = queue.pop(0)
        if kind == 'first':
          adder.add_first(*step)
          kind, *step = queue.pop(0)
        adder.add(*step)


def _key(item):
  return tuple((column.dtype.str, column.tobytes()) for column in item)


@pytest.mark.parametrize('end_behavior', [adders.EndBehavior.ZERO_PAD,
                                          adders.EndBehavior.WRITE])
def test_adders_sharing_a_writer_write_each_environments_items(end_behavior):
  """Three environments' adders on one writer, stepped in lockstep with
  episodes of their own lengths: replay holds the items three Acme adders
  would write, each environment's in its own order, with the configured
  priority, and the shared writer never keeps more items in flight than
  each adder's share allows."""
  sequence_length, period = 6, 3
  episodes_per_adder = [
      [sequence_items.episode(length, seed=10 * env + n)
       for n, length in enumerate(lengths)]
      for env, lengths in enumerate([[2, 13, 7], [20, 1, 6], [5, 5, 5, 9]])]
  server = reverb.Server([reverb.Table.queue('priority_table', 10_000)])
  client = reverb.Client(f'localhost:{server.port}')
  try:
    shared = _adders(client, 3, sequence_length, period, priority=7.,
                     end_behavior=end_behavior)
    _interleave(shared, episodes_per_adder)
    del shared
    # Every episode end starts a new episode id on the shared writer, so
    # replay counts more than one episode, and no more than ended (read
    # before the queue gives its items up).
    episode_ids = client.server_info()['priority_table'].num_episodes
    written = reverb_queue.read_in_order(client, 'priority_table')
  finally:
    server.stop()
  expected = []
  for episodes in episodes_per_adder:
    expected.append(sequence_items.write_and_read(
        lambda c: adders.SequenceAdder(
            c, sequence_length, period, end_of_episode_behavior=end_behavior,
            priority_fns=dict.fromkeys(sequence_items.TABLES)),
        episodes, sequence_length)['table_a'])
  assert sorted(map(_key, (s.data for s in written))) == sorted(
      _key(item) for items in expected for item in items)
  # Each environment's items keep their order.
  positions = {key: n for n, key in enumerate(_key(s.data) for s in written)}
  for items in expected:
    order = [positions[_key(item)] for item in items]
    assert order == sorted(order)
  np.testing.assert_allclose([s.info.priority for s in written], 7.)
  assert 1 < episode_ids <= sum(map(len, episodes_per_adder))


@pytest.mark.parametrize('make_adder', [
    lambda client: _adders(client, 1, 3, 3)[0],
    lambda client: structured_adder.StructuredSequenceAdder(client, 3, 3)],
                         ids=['whole sequence', 'structured'])
def test_reset_mid_episode_writes_no_last_sequence(make_adder):
  server = reverb.Server([reverb.Table.queue('priority_table', 100)])
  client = reverb.Client(f'localhost:{server.port}')
  try:
    adder = make_adder(client)
    first, steps = sequence_items.episode(8, seed=0)
    adder.add_first(first)
    for action, timestep, extras in steps[:4]:  # Rows 0-3: one item.
      adder.add(action, timestep, extras)
    adder.reset()
    del adder
    assert client.server_info()['priority_table'].current_size == 1
  finally:
    server.stop()


def test_refuses_what_it_cannot_write():
  client = reverb.Client('localhost:1')
  with pytest.raises(ValueError, match='supports end_of_episode_behavior '
                     r"\['ZERO_PAD', 'WRITE'\], got EndBehavior.TRUNCATE"):
    _adders(client, 2, 3, 1, end_behavior=adders.EndBehavior.TRUNCATE)
  with pytest.raises(ValueError, match='initial_priority must be positive'):
    _adders(client, 2, 3, 1, priority=0.)


def test_several_environments_share_one_writer_one_keeps_shared_chunks():
  """An actor's adders: one writer for several environments, each adder's
  share of items in flight; the structured adder for one; Acme's adders
  where priority functions need the trajectory in Python."""
  client = reverb.Client('localhost:1')  # Adders connect on first write.
  make = whole_sequence_adder.make_sequence_adders
  shared = make(client, 4, 3, 1, max_in_flight_items=5)
  assert all(isinstance(a, whole_sequence_adder.WholeSequenceAdder)
             for a in shared)
  writers = {id(a._writer) for a in shared}  # pylint: disable=protected-access
  assert len(writers) == 1
  assert shared[0]._writer._max_in_flight_items == 20  # pylint: disable=protected-access
  alone, = make(client, 1, 3, 1)
  assert isinstance(alone, structured_adder.StructuredSequenceAdder)
  with_functions = make(client, 2, 3, 1, priority_fns={'t': lambda _: 2.})
  assert all(type(a) is adders.SequenceAdder for a in with_functions)
  unshared = make(client, 4, 3, 1, share_writer=False)
  assert all(isinstance(a, structured_adder.StructuredSequenceAdder)
             for a in unshared)


def test_config_counts_the_steps_replay_holds_per_environment_step():
  config = r2d2.R2D2Config()  # Sequences of 121 steps, one every 40.
  assert config.stored_steps_per_step(16) == 121 / 40
  assert config.stored_steps_per_step(1) == 1.
  unshared = r2d2.R2D2Config(share_replay_writer=False)
  assert unshared.stored_steps_per_step(16) == 1.


def _builder(agent: str, **r2d2_fields):
  config = r2d2.R2D2Config(**r2d2_fields)
  if agent == 'r2d2':
    return r2d2.R2D2Builder(config, network_factory=None)
  return bt.BTBuilder(bt.BTConfig(r2d2=config), network_factory=None)


@pytest.mark.parametrize('agent', ['r2d2', 'bt'])
def test_programs_actors_share_one_writer_per_actor(agent):
  client = reverb.Client('localhost:1')
  builder = _builder(agent)
  adder_list = builder.make_adders(client, 3)
  assert len(adder_list) == 3
  assert all(isinstance(a, whole_sequence_adder.WholeSequenceAdder)
             for a in adder_list)
  assert len({id(a._writer) for a in adder_list}) == 1  # pylint: disable=protected-access
  alone, = builder.make_adders(client, 1)
  assert isinstance(alone, structured_adder.StructuredSequenceAdder)
  unshared = _builder(agent, share_replay_writer=False)
  assert all(isinstance(a, structured_adder.StructuredSequenceAdder)
             for a in unshared.make_adders(client, 3))
