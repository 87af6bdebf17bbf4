"""The BT actor against Algorithm 1: flights, the extra action, pi_p's state."""

from acme import specs
from acme.tf import utils as tf2_utils
import numpy as np
import pytest
from scipy import stats
import sonnet as snt
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.policies import pretrained

E = bt_config.Exploration
NUM_ACTIONS = 7
ENVIRONMENT = 'minigrid:MiniGrid-Empty-8x8-v0'


class FixedQ(snt.RNNCore):
  """A stand-in Q-network with fixed values and a step-counting state."""

  def __init__(self, values):
    super().__init__(name='fixed_q')
    self._values = tf.constant([values], tf.float32)
    self.num_outputs = len(values)

  def __call__(self, inputs, state):
    if self._values.shape[0] != 1:  # One row of values per environment.
      return self._values, state + 1
    return tf.tile(self._values, [tf.shape(state)[0], 1]), state + 1

  def initial_state(self, batch_size):
    return tf.zeros([batch_size, 1])


class CountingPolicy(pretrained.PretrainedPolicy):
  """pi_p whose action depends on its state: the number of steps it has seen."""

  num_actions = NUM_ACTIONS

  def initial_state(self):
    return 0

  def step(self, observation, state):
    return (3 * state + 1) % NUM_ACTIONS, state + 1


def decisions(actor, index):
  """What the actor decided in environment `index` on its last step."""
  # pylint: disable=protected-access
  return dict(chosen=int(actor._chosen[index]),
              executed_action=int(actor._executed[index]),
              in_flight=bool(actor._in_flight[index]),
              core_state=actor._q_states.stored(index))


def run_actor(actor, num_steps=None, seed=0, environment=None,
              num_episodes=None):
  """Acts (in environment 0 of the actor) for `num_steps` or whole
  `num_episodes`; returns per-step records.

  Each record holds what the actor decided (chosen, executed_action,
  in_flight, core_state), the executed action and the step index `t` within
  its episode.
  """
  env = environment or environments.make_environment(ENVIRONMENT, seed=seed)
  records, timestep, episodes = [], None, 0
  while (len(records) < num_steps if num_steps is not None
         else episodes < num_episodes):
    if timestep is None or timestep.last():
      timestep, episode_step = env.reset(), 0
      actor.observe_first(0, timestep)
    executed = actor.select_actions([timestep.observation])[0]
    records.append(dict(decisions(actor, 0), executed=executed, t=episode_step))
    timestep = env.step(executed)
    actor.observe(0, executed, timestep)
    episode_step += 1
    episodes += int(timestep.last())
  return records


def pi_action_at(t):
  return (3 * t + 1) % NUM_ACTIONS


def make_actor(exploration, q_values, epsilon=0., levy_epsilon=0.,
               policy=None, seed=0):
  return bt_actor.BehaviorTransferActor(
      FixedQ(q_values), NUM_ACTIONS, exploration, [epsilon], [levy_epsilon],
      policy if policy is not None else CountingPolicy(), seeds=[seed])


def test_flight_lengths_follow_zeta_2():
  # Chi-square goodness of fit on 20,000 draws, bins 1, 2, 3, 4, 5-9, 10-99,
  # >= 100, at a false-alarm rate of 0.1% (the draws are seeded, so the test
  # is deterministic; 0.1% is the chance a correct sampler fails a new seed).
  rng = np.random.RandomState(0)
  draws = np.array([bt_actor.sample_flight_length(rng, 2.0)
                    for _ in range(20_000)])
  edges = [1, 2, 3, 4, 5, 10, 100, np.inf]
  observed = np.histogram(draws, bins=edges)[0]
  n = np.arange(1, 1_000_000)
  pmf = n**-2. / (np.pi**2 / 6)
  expected = [pmf[(n >= lo) & (n < hi)].sum() for lo, hi in zip(edges, edges[1:])]
  expected[-1] = 1. - sum(expected[:-1])
  _, p_value = stats.chisquare(observed, np.array(expected) * len(draws))
  assert p_value > 1e-3
  assert draws.min() >= 1
  # A wrong exponent is caught by the same test.
  wrong = np.array([bt_actor.sample_flight_length(rng, 2.5) for _ in range(20_000)])
  _, p_wrong = stats.chisquare(np.histogram(wrong, bins=edges)[0],
                               np.array(expected) * len(wrong))
  assert p_wrong < 1e-3


def test_in_flight_every_action_is_pi_p_and_pi_p_state_advances():
  actor = make_actor(E.FLIGHTS, [0.] * NUM_ACTIONS, levy_epsilon=1.)
  records = run_actor(actor, 30)
  assert all(r['in_flight'] for r in records)
  assert [r['executed'] for r in records] == [pi_action_at(r['t']) for r in records]
  assert [r['chosen'] for r in records] == [r['executed'] for r in records]
  assert actor.episode_metrics(0)['flight_fraction'] == 1.


def test_extra_action_resolves_to_pi_p():
  q = [0.] * NUM_ACTIONS + [1.]  # a+ is greedy.
  actor = make_actor(E.BT, q)
  records = run_actor(actor, 20)
  assert all(r['chosen'] == NUM_ACTIONS for r in records)
  assert [r['executed'] for r in records] == [pi_action_at(r['t']) for r in records]
  assert not any(r['in_flight'] for r in records)
  metrics = actor.episode_metrics(0)
  assert metrics['greedy_extra_action_fraction'] == 1.
  assert metrics['extra_action_fraction'] == 1.


def test_primitive_choice_executes_as_chosen_while_pi_p_keeps_stepping():
  q = [0., 0., 5., 0., 0., 0., 0., 1.]  # Action 2 is greedy.
  policy = CountingPolicy()
  actor = make_actor(E.BT, q, policy=policy)
  records = run_actor(actor, 12)
  assert all(r['chosen'] == 2 and r['executed'] == 2 for r in records)
  assert actor._policies.python_states(0)[0] == 12  # pylint: disable=protected-access
  # pi_p's recurrent state restarts with each episode.
  run_actor(actor, 3)
  assert actor._policies.python_states(0)[0] == 3  # pylint: disable=protected-access


def test_epsilon_explores_uniformly_over_extended_action_set():
  actor = make_actor(E.BT, [0.] * (NUM_ACTIONS + 1), epsilon=1., seed=1)
  records = run_actor(actor, 2000)
  chosen = np.array([r['chosen'] for r in records])
  counts = np.bincount(chosen, minlength=NUM_ACTIONS + 1)
  assert stats.chisquare(counts).pvalue > 1e-3  # Uniform over 8 choices.
  assert any(r['t'] == 0 for r in records[1:])  # Crossed episode boundaries.
  for r in records:
    pi_action = pi_action_at(r['t'])
    assert r['executed'] == (pi_action if r['chosen'] == NUM_ACTIONS else r['chosen'])


def test_ez_greedy_flights_repeat_one_random_action():
  actor = bt_actor.BehaviorTransferActor(
      FixedQ([0.] * NUM_ACTIONS), NUM_ACTIONS, E.EZ_GREEDY, [0.], [0.2], None,
      seeds=[3])
  records = run_actor(actor, 400)
  flights, current = [], []
  for r in records:
    if r['in_flight']:
      current.append(r['executed'])
    elif current:
      flights.append(current)
      current = []
  assert len(flights) > 5
  # Within a flight, one action repeats (consecutive flights may touch, so
  # check that most flights are constant and that their actions differ).
  constant = [f for f in flights if len(set(f)) == 1]
  assert len(constant) >= 0.7 * len(flights)
  assert len({f[0] for f in constant}) > 1


def test_wrong_number_of_outputs_or_missing_policy_is_refused():
  with pytest.raises(ValueError, match='8 outputs'):
    make_actor(E.BT, [0.] * NUM_ACTIONS)
  with pytest.raises(ValueError, match='needs a pre-trained policy'):
    bt_actor.BehaviorTransferActor(FixedQ([0.] * 8), NUM_ACTIONS, E.BT, [0.],
                                   [0.])


def test_tf_pretrained_policy_runs_in_the_same_call_and_matches_stepping_alone():
  env = environments.make_environment(ENVIRONMENT)
  spec = specs.make_environment_spec(env)
  tf.random.set_seed(0)
  pi_network = networks.make_small_network(NUM_ACTIONS)
  tf2_utils.create_variables(pi_network, [spec.observations])
  policy = pretrained.GreedyNetworkPolicy(pi_network, NUM_ACTIONS)
  actor = make_actor(E.FLIGHTS, [0.] * NUM_ACTIONS, levy_epsilon=1.,
                     policy=policy)
  records = run_actor(actor, 15)
  # Replay the same observations through pi_p alone.
  env = environments.make_environment(ENVIRONMENT)
  timestep, state, expected = env.reset(), policy.initial_state(), []
  for r in records:
    action, state = policy.step(timestep.observation, state)
    expected.append(action)
    timestep = env.step(r['executed'])
  assert [r['executed'] for r in records] == expected
