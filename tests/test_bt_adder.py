"""The BT adder: what reaches Reverb, step by step, across episode boundaries."""

from acme import specs
from acme import wrappers
from acme.tf import utils as tf2_utils
import numpy as np
import reverb
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import adder as bt_adder
from behavior_transfer.agents.bt import config as bt_config
from tests import test_bt_actor
from tests.helpers import reverb_queue

SEQUENCE_LENGTH, PERIOD = 5, 5
TABLE = 'priority_table'  # The adder's default table name.


def test_adder_stores_chosen_executed_flight_and_state_across_episodes():
  env = environments.make_environment(test_bt_actor.ENVIRONMENT, seed=0)
  environment_spec = specs.make_environment_spec(env)
  num_choices = test_bt_actor.NUM_ACTIONS + 1
  network = test_bt_actor.FixedQ([0.] * num_choices)
  core_state_spec = tf2_utils.squeeze_batch_dim(network.initial_state(1))
  signature = bt_adder.signature(environment_spec, num_choices,
                                 core_state_spec, SEQUENCE_LENGTH)
  server = reverb.Server([reverb.Table.queue(TABLE, 10_000, signature=signature)])
  client = reverb.Client(f'localhost:{server.port}')
  try:
    # Flights, a+ and random choices all happen: epsilon 0.5, levy 0.1.
    actor = bt_actor.BehaviorTransferActor(
        network, test_bt_actor.NUM_ACTIONS, bt_config.Exploration.BT,
        epsilons=[0.5], levy_epsilons=[0.1],
        pretrained=test_bt_actor.CountingPolicy(),
        adders=[bt_adder.make_adder(client, SEQUENCE_LENGTH, PERIOD)],
        seeds=[2])
    # Short episodes (13 steps, not a multiple of the period) to cross many
    # episode boundaries mid-sequence.
    records = test_bt_actor.run_actor(
        actor, environment=wrappers.StepLimitWrapper(env, step_limit=13),
        num_episodes=6)
    sequences = [sample.data for sample in reverb_queue.read_in_order(
        client, TABLE, unpack_as_table_signature=True)]
  finally:
    server.stop()

  # Rebuild each episode from its sequences (each starts at start_of_episode).
  # What was read, for the failure messages: each sequence's episode starts
  # and its steps' indices within their episode (from FixedQ's state).
  read = [(data.start_of_episode.astype(int).tolist(),
           data.extras['core_state'].ravel().astype(int).tolist())
          for data in sequences]
  episodes = []
  for data in sequences:
    steps = [tf.nest.map_structure(lambda x, i=i: x[i], data)
             for i in range(SEQUENCE_LENGTH)]
    if steps[0].start_of_episode:
      episodes.append([])
    assert episodes, f'The first sequence read starts no episode: {read}'
    episodes[-1].extend(steps)
  recorded_episodes = np.split(records, np.flatnonzero(
      [r['t'] == 0 for r in records])[1:])
  assert len(episodes) == len(recorded_episodes) == 6, read

  kinds = set()
  for stored, recorded in zip(episodes, recorded_episodes):
    for step, r in zip(stored, recorded):
      assert step.action == r['chosen']
      assert step.extras['executed_action'] == r['executed']
      assert step.extras['in_flight'] == r['in_flight']
      # FixedQ's state counts the steps it has seen this episode; the stored
      # state is the one the Q-network had before acting.
      np.testing.assert_array_equal(step.extras['core_state'], [r['t']])
      kinds.add('flight' if r['in_flight'] else
                'extra' if r['chosen'] == test_bt_actor.NUM_ACTIONS else
                'primitive')
    assert sum(bool(s.start_of_episode) for s in stored) == 1
    # The episode's steps, then its final observation; the rest is padding.
    assert len(stored) >= len(recorded) + 1
  assert kinds == {'flight', 'extra', 'primitive'}
