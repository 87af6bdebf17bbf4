"""Batched actors write what as many single-environment actors would write.

An actor node steps K environments with one network call per step. Each
environment must keep its own episode, exploration, recurrent state and
adder: replay items of environment i are compared, field by field, with those
of a one-environment actor fed environment i's seed alone. Episodes end at
different steps in different environments (step limits 7, 11 and 13).
"""

import collections

from acme import specs
from acme import wrappers
from acme.wrappers import observation_action_reward as oar_lib
from acme.adders import reverb as adders
from acme.tf import utils as tf2_utils
from acme.utils import loggers
import numpy as np
import pytest
import reverb
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.acting import batched_loop
from behavior_transfer.acting import environment_batch
from behavior_transfer.acting import whole_sequence_adder
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import adder as bt_adder
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import networks as ngu_networks
from behavior_transfer.agents.ngu import reward_wrapper
from behavior_transfer.agents.ngu import rewards
from behavior_transfer.agents.r2d2 import actor as r2d2_actor
from behavior_transfer.policies import pretrained
from tests import test_bt_actor
from tests.helpers import reverb_queue

ENVIRONMENT = 'minigrid:MiniGrid-Empty-8x8-v0'
NUM_ACTIONS = 7
STEP_LIMITS = (7, 11, 13)
SEEDS = (5, 6, 7)
EPSILONS = (0.5, 0.2, 0.05)
SEQUENCE_LENGTH, PERIOD = 6, 3
STEPS_PER_ENVIRONMENT = 60
TABLE = adders.DEFAULT_PRIORITY_TABLE


def _spec():
  return specs.make_environment_spec(environments.make_environment(ENVIRONMENT))


def _network(num_outputs, seed):
  tf.random.set_seed(seed)
  network = networks.make_small_network(NUM_ACTIONS, num_outputs, lstm_size=8)
  tf2_utils.create_variables(network, [_spec().observations])
  return network


def _environment(i, oar=True):
  env = environments.make_environment(ENVIRONMENT, seed=SEEDS[i],
                                      oar_wrapper=False)
  env = wrappers.StepLimitWrapper(env, step_limit=STEP_LIMITS[i])
  return wrappers.ObservationActionRewardWrapper(env) if oar else env


class Setup:
  """Builds the actor and environments of `kind` for environments `indices`."""

  def __init__(self, kind):
    self.kind = kind
    num_outputs = NUM_ACTIONS + int(kind == 'bt')
    self.network = _network(num_outputs, seed=1)
    self.pi_network = _network(NUM_ACTIONS, seed=2)
    tf.random.set_seed(3)
    self.models = ngu_networks.IntrinsicModels('minigrid', NUM_ACTIONS, 8, 8)
    self.models.create_variables(_spec().observations.observation)

  def signature(self):
    core_state = tf2_utils.squeeze_batch_dim(self.network.initial_state(1))
    if self.kind == 'bt':
      return bt_adder.signature(_spec(), NUM_ACTIONS + 1, core_state,
                                SEQUENCE_LENGTH)
    return adders.SequenceAdder.signature(
        _spec(), {'core_state': core_state}, sequence_length=SEQUENCE_LENGTH)

  def actor(self, indices, clients):
    """One client per environment (Acme's adders), or one for all of them
    (adders sharing one writer, as the programs' actors write)."""
    seeds = [SEEDS[i] for i in indices]
    epsilons = [EPSILONS[i] for i in indices]
    if len(clients) < len(indices):
      adder_list = whole_sequence_adder.make_sequence_adders(
          clients[0], len(indices), SEQUENCE_LENGTH, PERIOD)
    else:
      adder_list = [adders.SequenceAdder(c, period=PERIOD,
                                         sequence_length=SEQUENCE_LENGTH)
                    for c in clients]
    if self.kind == 'bt':
      policy = pretrained.GreedyNetworkPolicy(self.pi_network, NUM_ACTIONS)
      return bt_actor.BehaviorTransferActor(
          self.network, NUM_ACTIONS, bt_config.Exploration.BT, epsilons,
          [0.3] * len(indices), policy, adder_list, seeds=seeds), adder_list
    return r2d2_actor.EpsilonGreedyActor(self.network, epsilons, adder_list,
                                         seeds=seeds), adder_list

  def environments(self, indices):
    if self.kind != 'ngu':
      return environment_batch.EnvironmentBatch(
          [_environment(i) for i in indices])
    raw = environment_batch.EnvironmentBatch(
        [_environment(i, oar=False) for i in indices])
    return environment_batch.ObservationActionRewardBatch(
        reward_wrapper.IntrinsicRewardBatch(
            raw, self.models, ngu_config.NGUConfig(num_neighbours=3),
            _spec().observations.observation))


def _run(setup, indices, clients, calls=1):
  """Steps the actor of `indices` for STEPS_PER_ENVIRONMENT batched steps in
  `calls` calls of the loop's `run`; returns the loop."""
  actor, adder_list = setup.actor(indices, clients)
  loop = batched_loop.BatchedEnvironmentLoop(
      setup.environments(indices), actor, observers=[[] for _ in indices])
  for _ in range(calls):
    loop.run(num_steps=STEPS_PER_ENVIRONMENT * len(indices) // calls)
  for adder in adder_list:
    adder.reset()  # Flushes items still in flight.
  return loop


def _items(client):
  return [sample.data for sample in reverb_queue.read_in_order(
      client, TABLE, unpack_as_table_signature=True)]


@pytest.mark.parametrize('kind', ['r2d2', 'bt', 'ngu'])
def test_batched_actor_writes_what_single_environment_actors_write(kind):
  setup = Setup(kind)
  servers = [reverb.Server([reverb.Table.queue(
      TABLE, 10_000, signature=setup.signature())])
             for _ in range(2 * len(SEEDS))]
  clients = [reverb.Client(f'localhost:{s.port}') for s in servers]
  try:
    indices = range(len(SEEDS))
    _run(setup, indices, clients[:len(SEEDS)])  # One actor, three envs.
    for i in indices:  # Three actors, one env each.
      _run(setup, [i], [clients[len(SEEDS) + i]])
    batched = [_items(c) for c in clients[:len(SEEDS)]]
    single = [_items(c) for c in clients[len(SEEDS):]]
  finally:
    for server in servers:
      server.stop()

  for i in indices:
    # At least one item per episode.
    assert len(batched[i]) == len(single[i]) >= STEPS_PER_ENVIRONMENT // STEP_LIMITS[i]
    starts = 0
    for got, expected in zip(batched[i], single[i]):
      flat_got, flat_expected = tree.flatten(got), tree.flatten(expected)
      for a, b in zip(flat_got, flat_expected):
        if a.dtype.kind == 'f':  # LSTM states and rewards: batched maths.
          np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:  # Actions, extras, observations, episode starts: exact.
          np.testing.assert_array_equal(a, b)
      starts += int(np.sum(got.start_of_episode))
      # Each episode starts from a fresh LSTM state.
      for state in got.extras['core_state']:
        assert not np.any(state[got.start_of_episode])
    # Episodes of this environment's own length started inside the items.
    assert starts >= STEPS_PER_ENVIRONMENT // STEP_LIMITS[i] - 1
  if kind == 'ngu':  # Intrinsic, not game, rewards reached replay.
    rewards = np.concatenate([item.reward for item in batched[0]])
    assert (rewards > 0).any()
  # Environments differ from each other (their own seeds and epsilons).
  assert not all(np.array_equal(a.action, b.action)
                 for a, b in zip(batched[0], batched[1]))


def _exact_key(item):
  """What identifies an item without the LSTM maths: its observations,
  actions and episode starts."""
  return tuple(np.asarray(x).tobytes() for x in tree.flatten(
      (item.observation, item.action, item.start_of_episode)))


@pytest.mark.parametrize('kind', ['r2d2', 'bt'])
def test_batched_actor_on_one_writer_writes_single_environment_items(kind):
  """The programs' batched actors write through one writer for all their
  environments: replay gets, item for item, what one-environment actors
  with Acme's adders write."""
  setup = Setup(kind)
  servers = [reverb.Server([reverb.Table.queue(
      TABLE, 10_000, signature=setup.signature())])
             for _ in range(1 + len(SEEDS))]
  clients = [reverb.Client(f'localhost:{s.port}') for s in servers]
  try:
    indices = range(len(SEEDS))
    _run(setup, indices, clients[:1])  # One actor, three envs, one writer.
    for i in indices:
      _run(setup, [i], [clients[1 + i]])
    shared = _items(clients[0])
    single = [item for c in clients[1:] for item in _items(c)]
  finally:
    for server in servers:
      server.stop()
  assert len(shared) == len(single) >= STEPS_PER_ENVIRONMENT // 13 * 3
  by_key = collections.defaultdict(list)  # Some items repeat exactly.
  for item in shared:
    by_key[_exact_key(item)].append(item)

  def same(a, b):
    return all(x.dtype == y.dtype and np.allclose(x, y, rtol=1e-5, atol=1e-6)
               for x, y in zip(tree.flatten(a), tree.flatten(b)))

  for expected in single:
    candidates = by_key[_exact_key(expected)]
    matches = [n for n, got in enumerate(candidates) if same(got, expected)]
    assert matches, 'an item of a one-environment actor is missing'
    candidates.pop(matches[0])
  assert not any(by_key.values())


def test_bt_flights_and_extra_action_are_per_environment():
  # Environment 0 always flies; environment 1 never does and always picks
  # a+; environment 2 picks primitive action 2. Each resolves with its own
  # pi_p state, as pi_p stepped alone on that environment's observations.
  q_values = [0., 0., 5., 0., 0., 0., 0., 1.]
  network = test_bt_actor.FixedQ(q_values)
  # a+ is greedy in environment 1 only.
  network._values = tf.constant([q_values, q_values[:7] + [9.], q_values])  # pylint: disable=protected-access
  tf.random.set_seed(2)
  policy = pretrained.GreedyNetworkPolicy(_network(NUM_ACTIONS, seed=2),
                                          NUM_ACTIONS)
  actor = bt_actor.BehaviorTransferActor(
      network, NUM_ACTIONS, bt_config.Exploration.BT, [0., 0., 0.],
      [1., 0., 0.], policy, seeds=[0, 1, 2])
  envs = environment_batch.EnvironmentBatch([_environment(i) for i in range(3)])
  timesteps = envs.reset()
  for i, t in enumerate(timesteps):
    actor.observe_first(i, t)
  records = []
  for _ in range(6):  # Within every environment's first episode.
    actions = actor.select_actions([t.observation for t in timesteps])
    records.append([test_bt_actor.decisions(actor, i) for i in range(3)])
    timesteps = envs.step(actions)
  flying = [[r[i]['in_flight'] for r in records] for i in range(3)]
  assert all(flying[0]) and not any(flying[1]) and not any(flying[2])
  assert all(r[1]['chosen'] == NUM_ACTIONS for r in records)
  assert all(r[2]['chosen'] == r[2]['executed_action'] == 2 for r in records)
  # Environment 1's a+ executed pi_p's action on its own observations.
  env, state = _environment(1), policy.initial_state()
  timestep = env.reset()
  for r in records:
    action, state = policy.step(timestep.observation, state)
    assert r[1]['executed_action'] == action
    timestep = env.step(np.int32(action))


def test_later_runs_continue_the_episodes_of_earlier_ones():
  # run(n) three times writes what one run(3n) writes: episodes are not cut
  # (or restarted) at the end of a call.
  setup = Setup('r2d2')
  servers = [reverb.Server([reverb.Table.queue(
      TABLE, 10_000, signature=setup.signature())]) for _ in range(2)]
  clients = [reverb.Client(f'localhost:{s.port}') for s in servers]
  try:
    whole = _run(setup, [0], [clients[0]])
    parts = _run(setup, [0], [clients[1]], calls=3)
    items = [_items(c) for c in clients]
  finally:
    for server in servers:
      server.stop()
  assert whole.steps == parts.steps == STEPS_PER_ENVIRONMENT
  assert len(items[0]) == len(items[1]) > 0
  for got, expected in zip(items[1], items[0]):
    for a, b in zip(tree.flatten(got), tree.flatten(expected)):
      np.testing.assert_array_equal(a, b)  # Same maths, same order.


def test_ngu_wrapper_of_one_environment_rewards_as_the_batched_path():
  """Acme-style stepping of `IntrinsicRewardWrapper` (a step after the last
  one resets) and the batched path as the actors' loop drives it, on the same
  episodes (same seed, same actions). A batch of one: the networks' floats
  differ in the last digits with the batch size, which the early RND
  statistics can amplify."""
  setup = Setup('ngu')
  config = ngu_config.NGUConfig(num_neighbours=3)
  steps = 2 * STEP_LIMITS[0] + 3  # Across two episode ends.
  actions = np.random.RandomState(0).randint(NUM_ACTIONS, size=steps)

  wrapped = reward_wrapper.IntrinsicRewardWrapper(
      _environment(0, oar=False), setup.models, config)
  single = []
  timestep = wrapped.reset()
  for action in actions:
    timestep = wrapped.step(action)  # Steps after the last one reset.
    single.append(float(timestep.reward) if not timestep.first() else None)

  batch = reward_wrapper.IntrinsicRewardBatch(
      environment_batch.EnvironmentBatch([_environment(0, oar=False)]),
      setup.models, config, _spec().observations.observation)
  batched = []
  timesteps = batch.reset()
  for action in actions:
    if timesteps[0].last():
      timesteps = batch.reset([0])
      batched.append(None)
      continue
    timesteps = batch.step([action])
    batched.append(float(timesteps[0].reward))
  assert single == batched
  assert sum(r is None for r in single) == 2  # Two new episodes.
  assert len({r for r in single if r is not None}) > 5  # Real rewards.
  # Around the observation-action-reward view (the order pre-training uses,
  # so that the network's previous reward is the dynamics' own): the same
  # intrinsic rewards, and observations that keep the dynamics' reward.
  around_oar = reward_wrapper.IntrinsicRewardWrapper(
      _environment(0), setup.models, config)
  timestep = around_oar.reset()
  for action, expected in zip(actions, single):
    timestep = around_oar.step(action)
    if expected is not None:
      assert float(timestep.reward) == expected
      assert float(timestep.observation.reward) == 0.  # Reward-free dynamics.


class _ImageRecorder:
  """Records the image of every observation an environment's episodes see."""

  def __init__(self):
    self.episodes = []

  def observe_first(self, env, timestep):
    del env
    self.episodes.append([timestep.observation.observation])

  def observe(self, env, timestep, action):
    del env, action
    self.episodes[-1].append(timestep.observation.observation)

  def get_metrics(self):
    return {}


def test_ngu_actor_logs_the_episode_mean_of_alpha():
  """Each episode's log row holds the mean of the alpha (clipped to [1, L])
  that scaled its rewards: the same as a fresh modulator gives fed the RND
  errors of the episodes' observations in order."""
  setup = Setup('ngu')
  config = ngu_config.NGUConfig(num_neighbours=3)
  recorder = _ImageRecorder()
  logger = loggers.InMemoryLogger()
  actor = r2d2_actor.EpsilonGreedyActor(setup.network, [0.5], seeds=[0])
  loop = batched_loop.BatchedEnvironmentLoop(
      setup.environments([0]), actor, logger=logger, observers=[[recorder]])
  loop.run(num_episodes=3)
  modulator = rewards.LifelongModulator(config.max_modulation)
  expected = []
  for images in recorder.episodes[:3]:
    errors = setup.models.rnd.error(tf.constant(np.stack(images))).numpy()
    modulator(errors[:1])  # The first observation earns no reward.
    expected.append(np.mean([modulator(error[None])[0]
                             for error in errors[1:]]))
  logged = [row['mean_lifelong_modulation'] for row in logger.data]
  np.testing.assert_allclose(logged, expected, rtol=1e-4)
  assert max(logged) > 1.  # Alpha did scale some rewards.


@pytest.mark.parametrize('bootstrap', [False, True])
def test_ngu_can_bootstrap_the_intrinsic_return_at_the_goal(bootstrap):
  """Reaching the goal ends the episode (discount 0); with
  `bootstrap_at_level_end` pre-training sees it as a time limit (discount
  1), with the same intrinsic rewards, so pi_p is not taught to avoid it."""
  setup = Setup('ngu')
  config = ngu_config.NGUConfig(num_neighbours=3,
                                bootstrap_at_level_end=bootstrap)
  environment = environments.make_environment(ENVIRONMENT, seed=0,
                                              oar_wrapper=False)
  wrapped = reward_wrapper.IntrinsicRewardWrapper(environment, setup.models,
                                                  config)
  wrapped.reset()
  forward, right = 2, 1  # From the top-left corner, facing right.
  timesteps = [wrapped.step(a) for a in [forward] * 5 + [right] + [forward] * 5]
  assert [t.last() for t in timesteps] == [False] * 10 + [True]
  assert environment.last_game_reward > 0  # The goal, not a time limit.
  assert [float(t.discount) for t in timesteps] == [1.] * 10 + [
      float(bootstrap)]
  assert timesteps[-1].discount.dtype == np.float32
  assert all(float(t.reward) > 0 for t in timesteps)  # Intrinsic rewards.


def test_take_row_is_map_structure_for_the_nests_states_come_in():
  # The fast walk must give what tree.map_structure gives, types included:
  # replay stores these rows as each step's recurrent state.
  lstm = snt.LSTMState(hidden=np.arange(12.).reshape(4, 3),
                       cell=np.arange(8, dtype=np.float32).reshape(4, 2))
  nest = {'actor': lstm, 'pi_p': (lstm, [np.arange(4)]),
          'other': collections.OrderedDict(b=np.ones((4, 1)))}
  for index in range(4):
    row, expected = batched_loop.take_row(nest, index), tree.map_structure(
        lambda x: x[index], nest)  # pylint: disable=cell-var-from-loop
    tree.assert_same_structure(row, expected, check_types=True)
    for got, want in zip(tree.flatten(row), tree.flatten(expected)):
      np.testing.assert_array_equal(got, want)
  assert type(batched_loop.take_row(lstm, 1)) is snt.LSTMState  # pylint: disable=unidiomatic-typecheck


def test_stack_is_np_stack_of_every_leaf_dtypes_and_types_included():
  # The batched network call reads these arrays: a value, dtype or nest type
  # that differs from np.stack's would change what every actor acts on.
  oar = oar_lib.OAR(observation=np.zeros((7, 7, 3), np.uint8),
                    action=np.int32(0), reward=np.float32(0.))
  observations = [
      {'oar': oar._replace(observation=np.full((7, 7, 3), k, np.uint8),
                           action=np.int32(k), reward=np.float32(k / 2)),
       'flags': (np.bool_(k % 2), [np.float64(k), 3 * k])}
      for k in range(5)]
  stacked = batched_loop.stack(observations)
  expected = tree.map_structure(lambda *leaves: np.stack(leaves),
                                *observations)
  tree.assert_same_structure(stacked, expected, check_types=True)
  for got, want in zip(tree.flatten(stacked), tree.flatten(expected)):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
  assert stacked['oar'].action.tolist() == [0, 1, 2, 3, 4]
