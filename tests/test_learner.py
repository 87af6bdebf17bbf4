"""The R2D2 learner against an independent NumPy computation on a hand-built batch."""

import itertools

from acme import specs
from acme.adders.reverb import base as adder_base
from acme.tf import utils as tf2_utils
from acme.wrappers import observation_action_reward
import numpy as np
import reverb
import sonnet as snt
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents.r2d2 import builder as r2d2_builder
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.agents.r2d2 import learning

NUM_ACTIONS, BATCH, LSTM = 4, 3, 16
EPS = 1e-3


def h(x):
  return np.sign(x) * (np.sqrt(np.abs(x) + 1) - 1) + EPS * x


def h_inv(x):
  z = np.sqrt(1 + 4 * EPS * (EPS + 1 + np.abs(x))) / 2 / EPS - 1 / 2 / EPS
  return np.sign(x) * (z**2 - 1)


def make_config(**kw):
  values = dict(trace_length=6, burn_in_length=2, n_step=3, discount=0.9,
                importance_sampling_exponent=0.6, max_priority_weight=0.9,
                learning_rate=1e-3, target_update_period=2, clip_grad_norm=1e9)
  values.update(kw)
  return r2d2_config.R2D2Config(**values)


def make_networks(seed=0, num_outputs=None):
  tf.random.set_seed(seed)
  online = networks.make_small_network(NUM_ACTIONS, num_outputs, lstm_size=LSTM)
  target = networks.make_small_network(NUM_ACTIONS, num_outputs, lstm_size=LSTM)
  for net in (online, target):
    net(_oar_step(np.zeros((1, 7, 7, 3), np.uint8)), net.initial_state(1))
  for v in target.variables:  # A target network that differs from the online one.
    v.assign(v + 0.05 * tf.random.normal(v.shape))
  return online, target


def _oar_step(obs):
  batch = obs.shape[0]
  return observation_action_reward.OAR(
      observation=tf.constant(obs), action=tf.zeros([batch], tf.int32),
      reward=tf.zeros([batch], tf.float32))


def make_sample(config, seed=0, num_choices=NUM_ACTIONS, extras=None):
  """A batch-major replay sample; sequence 1 terminates half-way.

  Stored actions are drawn from `num_choices`; `extras(rng, shape)` may add
  extras next to the core state.
  """
  rng = np.random.RandomState(seed)
  length = config.sequence_length
  shape = (BATCH, length)
  discount = np.ones(shape, np.float32)
  discount[1, 5] = 0.
  data = adder_base.Step(
      observation=observation_action_reward.OAR(
          observation=rng.randint(0, 4, size=shape + (7, 7, 3)).astype(np.uint8),
          action=rng.randint(NUM_ACTIONS, size=shape).astype(np.int32),
          reward=rng.randn(*shape).astype(np.float32)),
      action=rng.randint(num_choices, size=shape).astype(np.int32),
      reward=(3 * rng.randn(*shape)).astype(np.float32),
      discount=discount,
      start_of_episode=np.zeros(shape, bool),
      extras={'core_state': snt.LSTMState(
          hidden=(0.1 * rng.randn(*shape, LSTM)).astype(np.float32),
          cell=(0.1 * rng.randn(*shape, LSTM)).astype(np.float32)),
              **(extras(rng, shape) if extras else {})})
  info = reverb.SampleInfo(
      key=np.arange(BATCH, dtype=np.uint64),
      probability=np.array([0.1, 0.3, 0.6]),
      table_size=np.full(BATCH, 10, np.int64),
      priority=np.ones(BATCH))
  return reverb.ReplaySample(info=info, data=tf.nest.map_structure(tf.constant, data))


def independent_errors(online, target, sample, config):
  """Q-values from the networks, everything else in NumPy."""
  data = tf.nest.map_structure(lambda x: np.swapaxes(x.numpy(), 0, 1), sample.data)
  state = snt.LSTMState(hidden=tf.constant(data.extras['core_state'].hidden[0]),
                        cell=tf.constant(data.extras['core_state'].cell[0]))
  burn = config.burn_in_length
  oar = tf.nest.map_structure(tf.constant, data.observation)
  burn_obs = tf.nest.map_structure(lambda x: x[:burn], oar)
  rest_obs = tf.nest.map_structure(lambda x: x[burn:], oar)
  s_online = s_target = state
  if burn:
    _, s_online = online.unroll(burn_obs, state, burn)
    _, s_target = target.unroll(burn_obs, state, burn)
  length = config.sequence_length - burn
  q = online.unroll(rest_obs, s_online, length)[0].numpy()
  tq = target.unroll(rest_obs, s_target, length)[0].numpy()
  actions, rewards, discounts = (x[burn:] for x in (data.action, data.reward, data.discount))
  errors = np.zeros((length - 1, BATCH))
  targets = np.zeros((length - 1, BATCH))
  for b in range(BATCH):
    for t in range(length - 1):
      ret, scale, k = 0., 1., 0
      while k < config.n_step and t + k <= length - 2:
        ret += scale * rewards[t + k, b]
        scale *= config.discount * discounts[t + k, b]
        k += 1
      boot = t + k
      ret += scale * h_inv(tq[boot, b, np.argmax(q[boot, b])])  # Double Q.
      targets[t, b] = ret
      errors[t, b] = q[t, b, actions[t, b]] - h(ret)
  return q, errors, targets, actions


def test_loss_and_priorities_match_independent_computation():
  config = make_config()
  online, target = make_networks()
  sample = make_sample(config)
  learner = learning.R2D2Learner(online, target, config)
  loss, priorities, _ = learner.loss_and_priorities(sample)

  _, errors, _, _ = independent_errors(online, target, sample, config)
  weights = (1. / sample.info.probability)**0.6
  weights /= weights.max()
  expected_loss = np.mean(0.5 * np.sum(errors**2, axis=0) * weights)
  abs_errors = np.abs(errors)
  expected_priorities = 0.9 * abs_errors.max(0) + 0.1 * abs_errors.mean(0)
  np.testing.assert_allclose(loss.numpy(), expected_loss, rtol=1e-4)
  np.testing.assert_allclose(priorities.numpy(), expected_priorities, rtol=1e-4)


def test_no_stored_state_and_no_burn_in():
  config = make_config(burn_in_length=0, store_lstm_state=False)
  online, target = make_networks(seed=1)
  sample = make_sample(config, seed=1)
  zero = tf.nest.map_structure(np.zeros_like, sample.data.extras['core_state'])
  sample = sample._replace(data=sample.data._replace(
      extras={'core_state': tf.nest.map_structure(tf.constant, zero)}))
  learner = learning.R2D2Learner(online, target, config)
  loss, _, _ = learner.loss_and_priorities(sample)
  _, errors, _, _ = independent_errors(online, target, sample, config)
  weights = (1. / sample.info.probability)**0.6
  expected = np.mean(0.5 * np.sum(errors**2, axis=0) * weights / weights.max())
  np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-4)


def test_update_moves_q_towards_target_and_syncs_target_periodically():
  config = make_config(target_update_period=2)
  online, target = make_networks()
  sample = make_sample(config)
  learner = learning.R2D2Learner(online, target, config,
                                 iterator=itertools.repeat(sample))
  _, errors_before, targets, actions = independent_errors(online, target, sample, config)
  learner.step()
  # Targets fixed before the update; the fitted Q(s, a) moved towards them.
  q_after, _, _, _ = independent_errors(online, target, sample, config)
  t_idx, b_idx = np.meshgrid(range(errors_before.shape[0]), range(BATCH), indexing='ij')
  qa_after = q_after[t_idx, b_idx, actions[:-1]]
  assert np.mean(np.abs(qa_after - h(targets))) < np.mean(np.abs(errors_before))

  def same(a, b):
    return all(np.array_equal(x.numpy(), y.numpy())
               for x, y in zip(a.variables, b.variables))
  assert same(online, target)  # Step 0 copies the online weights.
  learner.step()
  assert not same(online, target)  # Step 1 leaves the target alone.
  learner.step()
  assert same(online, target)  # Step 2 copies again.


def test_epsilon_ladder():
  eps = r2d2_config.epsilon_ladder(8)
  np.testing.assert_allclose(eps[0], 0.4)
  np.testing.assert_allclose(eps[-1], 0.4**8)
  assert all(a > b for a, b in zip(eps, eps[1:]))
  assert r2d2_config.epsilon_ladder(1) == [0.4]


def test_fused_unroll_computes_the_network_unroll_and_its_gradient():
  # The learner's fused LSTM unroll (one BlockLSTM op) against Sonnet's
  # step-by-step unroll of the same network: values, state and gradients.
  env = environments.make_environment('minigrid:MiniGrid-Empty-5x5-v0')
  spec = specs.make_environment_spec(env)
  tf.random.set_seed(4)
  network = networks.make_small_network(spec.actions.num_values, lstm_size=16)
  tf2_utils.create_variables(network, [spec.observations])
  rng = np.random.RandomState(0)
  inputs = tf.nest.map_structure(
      lambda s: tf.constant(rng.randint(0, 3, (7, 4) + s.shape), s.dtype),
      spec.observations)
  state = tf.nest.map_structure(
      lambda x: tf.constant(rng.randn(*x.shape), tf.float32),
      network.initial_state(4))
  with tf.GradientTape(persistent=True) as tape:
    expected, expected_state = network.unroll(inputs, state, 7)
    got, got_state = learning.unroll_q_network(network, inputs, state)
    expected_sum, got_sum = tf.reduce_sum(expected ** 2), tf.reduce_sum(got ** 2)
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
  for a, b in zip(tf.nest.flatten(got_state), tf.nest.flatten(expected_state)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  for a, b in zip(tape.gradient(got_sum, network.trainable_variables),
                  tape.gradient(expected_sum, network.trainable_variables)):
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_fused_adam_follows_sonnets_adam_exactly():
  rng = np.random.RandomState(0)
  start = [rng.randn(3, 4).astype(np.float32), rng.randn(5).astype(np.float32)]
  fused_vars = [tf.Variable(x) for x in start]
  sonnet_vars = [tf.Variable(x) for x in start]
  fused = learning.FusedAdam(1e-2, epsilon=1e-3)
  fused.create_slots(lambda: fused_vars)
  assert fused._fused  # pylint: disable=protected-access
  reference = snt.optimizers.Adam(1e-2, epsilon=1e-3)
  for _ in range(20):
    gradients = [tf.constant(rng.randn(*x.shape).astype(np.float32))
                 for x in start]
    fused.apply(gradients, fused_vars)
    reference.apply(gradients, sonnet_vars)
  for a, b in zip(fused_vars, sonnet_vars):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
  assert int(fused.step) == int(reference.step) == 20
  for a, b in zip(fused.m + fused.v, reference.m + reference.v):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)


def test_replay_ratio_sets_the_tables_samples_per_insert():
  # A sequence per 10 steps, 20 trained steps per sample: training on each
  # step 4 times takes 2 samples per inserted sequence.
  config = r2d2_config.preset('minigrid', replay_ratio=4., replay_period=10,
                              trace_length=20)
  assert config.samples_per_insert == 2.
  table = r2d2_builder.make_replay_table(config, None)
  assert table.info.rate_limiter_info.samples_per_insert == 2.
