"""The structured sequence adder writes what Acme's SequenceAdder writes."""

from acme.adders import reverb as adders
import numpy as np
import pytest
import reverb

from behavior_transfer.acting import structured_adder
from behavior_transfer.agents import bt
from behavior_transfer.agents import r2d2
from tests.helpers import reverb_queue
from tests.helpers import sequence_items


def test_acmes_cases_cover_both_end_behaviours():
  behaviours = {case.get('end_behavior', adders.EndBehavior.ZERO_PAD)
                for case in sequence_items.SUPPORTED_CASES}
  assert behaviours == set(structured_adder.SUPPORTED_END_BEHAVIORS)
  assert len(sequence_items.SUPPORTED_CASES) >= 8


class AcmeSequenceAdderCasesTest(sequence_items.AcmeSequenceAdderCases):
  """Acme's own SequenceAdder test cases, through StructuredSequenceAdder."""

  def make_adder(self, client, sequence_length, period, end_behavior):
    return structured_adder.StructuredSequenceAdder(
        client, sequence_length, period, end_of_episode_behavior=end_behavior)


@pytest.mark.parametrize('sequence_length,period', [(5, 5), (6, 3), (4, 1),
                                                    (3, 5)])
def test_nested_steps_in_two_tables_match_acmes_adder(sequence_length, period):
  """R2D2/BT-shaped steps (nested observation, LSTM state in extras) over
  episodes shorter and longer than a sequence, in two tables."""
  episodes = [sequence_items.episode(length, seed) for seed, length in
              enumerate([2, 13, sequence_length, 7, 1, 20])]
  tables = dict.fromkeys(sequence_items.TABLES)

  def acme_adder(client):
    return adders.SequenceAdder(client, sequence_length, period,
                                priority_fns=tables)

  def structured(client):
    return structured_adder.StructuredSequenceAdder(
        client, sequence_length, period, priority_fns=tables)

  expected = sequence_items.write_and_read(acme_adder, episodes,
                                          sequence_length)
  written = sequence_items.write_and_read(structured, episodes,
                                         sequence_length)
  for table in tables:
    sequence_items.assert_same_items(written[table], expected[table])


def test_refuses_what_needs_the_trajectory_in_python():
  client = reverb.Client('localhost:1')
  with pytest.raises(ValueError, match=r"tables \['a'\] have priority "
                     r'functions: use acme.adders.reverb.SequenceAdder'):
    structured_adder.StructuredSequenceAdder(
        client, 3, 1, priority_fns={'a': lambda _: 2., 'b': None})
  with pytest.raises(ValueError, match='supports end_of_episode_behavior '
                     r"\['ZERO_PAD', 'WRITE'\], got EndBehavior.TRUNCATE"):
    structured_adder.StructuredSequenceAdder(
        client, 3, 1, end_of_episode_behavior=adders.EndBehavior.TRUNCATE)


def test_programs_write_through_it_and_acme_keeps_what_it_alone_does():
  client = reverb.Client('localhost:1')  # Adders connect on first write.
  make = structured_adder.make_sequence_adder
  assert isinstance(make(client, 4, 2, priority_fns={'t': None}),
                    structured_adder.StructuredSequenceAdder)
  assert isinstance(
      bt.make_adder(client, 4, 2, end_of_episode_behavior=(
          adders.EndBehavior.WRITE)), structured_adder.StructuredSequenceAdder)
  for acme_only in (dict(priority_fns={'t': lambda _: 2.}),
                    dict(end_of_episode_behavior=adders.EndBehavior.TRUNCATE),
                    dict(delta_encoded=True)):
    assert type(make(client, 4, 2, **acme_only)) is adders.SequenceAdder
  builder = r2d2.R2D2Builder(r2d2.R2D2Config(), network_factory=None)
  assert isinstance(builder.make_adder(client),
                    structured_adder.StructuredSequenceAdder)


@pytest.mark.parametrize('agent', ['r2d2', 'bt'])
def test_items_enter_replay_with_the_configured_initial_priority(agent):
  """The programs' adders write `R2D2Config.initial_priority` on every item
  (Acme's 1.0 by default), episode ends included; Acme's adder, which the
  structured one falls back to, cannot, and says so."""
  config = r2d2.R2D2Config(burn_in_length=1, trace_length=2, replay_period=2,
                           initial_priority=100.)
  builder = (r2d2.R2D2Builder(config, network_factory=None) if agent == 'r2d2'
             else bt.BTBuilder(bt.BTConfig(r2d2=config),
                               network_factory=None))
  table = adders.DEFAULT_PRIORITY_TABLE
  server = reverb.Server([reverb.Table.queue(table, 100)])
  client = reverb.Client(f'localhost:{server.port}')
  try:
    adder = builder.make_adder(client)
    first, steps = sequence_items.episode(7, seed=1)
    adder.add_first(first)
    for action, timestep, extras in steps:
      adder.add(action, timestep, extras)
    del adder
    priorities = [sample.info.priority for sample in
                  reverb_queue.read_in_order(client, table)]
  finally:
    server.stop()
  assert len(priorities) == 3  # Rows 3 and 5, and the episode's last.
  np.testing.assert_allclose(priorities, 100.)
  with pytest.raises(ValueError, match='initial_priority 100.0 needs the '
                     'structured adder'):
    structured_adder.make_sequence_adder(
        client, 4, 2, initial_priority=100., delta_encoded=True)
  with pytest.raises(ValueError, match='initial_priority must be positive'):
    r2d2.R2D2Config(initial_priority=0.)
