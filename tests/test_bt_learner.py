"""The extra-action learner on a hand-built batch where a+ was chosen."""

import itertools

from acme.tf import utils as tf2_utils
import numpy as np
import tensorflow as tf

from behavior_transfer.agents.bt import learning as bt_learning
from tests import test_learner
from tests.test_learner import BATCH, NUM_ACTIONS, h

EXTRA_ACTION = NUM_ACTIONS  # a+ is the last of the |A| + 1 outputs.


def bt_extras(rng, shape):
  return {'executed_action': rng.randint(NUM_ACTIONS, size=shape).astype(np.int32),
          'in_flight': np.zeros(shape, bool)}


def make_batch(config, seed=0, extra_action_fraction=0.5):
  """A sample whose stored choices are a+ on a fraction of the steps."""
  sample = test_learner.make_sample(config, seed, num_choices=NUM_ACTIONS + 1,
                                    extras=bt_extras)
  rng = np.random.RandomState(seed + 100)
  chosen = sample.data.action.numpy()
  chosen[rng.rand(*chosen.shape) < extra_action_fraction] = EXTRA_ACTION
  return sample._replace(data=sample.data._replace(action=tf.constant(chosen)))


def independent_bt_errors(online, target, sample, config):
  """[T, B] errors of Q(s, chosen) and, where a+ was chosen, of Q(s, a')."""
  q, errors, targets, chosen = test_learner.independent_errors(
      online, target, sample, config)
  executed = np.swapaxes(sample.data.extras['executed_action'].numpy(), 0, 1)
  executed = executed[config.burn_in_length:][:-1]
  chose_extra = chosen[:-1] == EXTRA_ACTION
  t, b = np.meshgrid(range(errors.shape[0]), range(BATCH), indexing='ij')
  executed_errors = np.where(chose_extra, q[t, b, executed] - h(targets), 0.)
  return q, errors, executed_errors, targets, chosen[:-1], executed, chose_extra


def test_loss_and_priorities_fit_both_values_of_extra_action_steps():
  config = test_learner.make_config()
  online, target = test_learner.make_networks(num_outputs=NUM_ACTIONS + 1)
  sample = make_batch(config)
  learner = bt_learning.ExtraActionLearner(online, target, config)
  loss, priorities, _ = learner.loss_and_priorities(sample)

  _, errors, executed_errors, _, _, _, chose_extra = independent_bt_errors(
      online, target, sample, config)
  assert chose_extra.sum() > 5 and (~chose_extra).sum() > 5
  weights = (1. / sample.info.probability)**0.6
  weights /= weights.max()
  squared = errors**2 + executed_errors**2
  expected_loss = np.mean(0.5 * squared.sum(axis=0) * weights)
  step_errors = np.sqrt(squared)
  expected_priorities = 0.9 * step_errors.max(0) + 0.1 * step_errors.mean(0)
  np.testing.assert_allclose(loss.numpy(), expected_loss, rtol=1e-4)
  np.testing.assert_allclose(priorities.numpy(), expected_priorities, rtol=1e-4)


def test_update_moves_q_extra_and_q_executed_to_one_target_and_not_pi_p():
  config = test_learner.make_config()
  online, target = test_learner.make_networks(num_outputs=NUM_ACTIONS + 1)
  sample = make_batch(config, seed=3, extra_action_fraction=1.)
  # pi_p starts from the very same weights (weight transfer + BT), but is a
  # separate frozen network; the learner must never touch it.
  pi_network, _ = test_learner.make_networks(num_outputs=NUM_ACTIONS + 1)
  for pi_variable, variable in zip(pi_network.variables, online.variables):
    pi_variable.assign(variable)
  pi_before = [v.numpy().copy() for v in pi_network.variables]

  q, _, _, targets, _, executed, chose_extra = independent_bt_errors(
      online, target, sample, config)
  learner = bt_learning.ExtraActionLearner(online, target, config,
                                           iterator=itertools.repeat(sample))
  learner.step()
  q_after, *_ = independent_bt_errors(online, target, sample, config)

  assert chose_extra.all()
  t, b = np.nonzero(chose_extra)
  goal = h(targets[t, b])  # The same target for both values.
  for name, action in (('Q(s, a+)', EXTRA_ACTION), ("Q(s, a')", executed[t, b])):
    before = np.square(q[t, b, action] - goal).mean()
    after = np.square(q_after[t, b, action] - goal).mean()
    assert after < 0.98 * before, f'{name} did not move towards the target'

  for before, variable in zip(pi_before, pi_network.variables):
    np.testing.assert_array_equal(before, variable.numpy())  # Bit for bit.
  assert any(not np.array_equal(a, v.numpy())
             for a, v in zip(pi_before, online.variables))


def test_gradient_reaches_exactly_q_chosen_and_for_extra_action_q_executed():
  config = test_learner.make_config()
  online, target = test_learner.make_networks(num_outputs=NUM_ACTIONS + 1)
  learner = bt_learning.ExtraActionLearner(online, target, config)
  rng = np.random.RandomState(7)
  length, choices = 5, NUM_ACTIONS + 1
  data = tf2_utils.batch_to_sequence(tf.nest.map_structure(
      lambda x: x[:, :length], make_batch(config, seed=7).data))
  q_values = tf.Variable(rng.randn(length, BATCH, choices).astype(np.float32))
  target_q_values = tf.constant(rng.randn(length, BATCH, choices).astype(np.float32))
  with tf.GradientTape() as tape:
    td = learner.td_errors(q_values, target_q_values, data)
    loss = 0.5 * tf.reduce_sum(td.squared_step_errors())
  gradient = tape.gradient(loss, q_values).numpy()

  q, goal = q_values.numpy(), h(td.targets.numpy())
  chosen = data.action.numpy()
  executed = data.extras['executed_action'].numpy()
  expected = np.zeros_like(gradient)
  for t in range(length - 1):
    for b in range(BATCH):
      expected[t, b, chosen[t, b]] += q[t, b, chosen[t, b]] - goal[t, b]
      if chosen[t, b] == EXTRA_ACTION:  # a' is fitted to the same target.
        expected[t, b, executed[t, b]] += q[t, b, executed[t, b]] - goal[t, b]
  assert (chosen[:-1] == EXTRA_ACTION).any() and (chosen[:-1] != EXTRA_ACTION).any()
  np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-6)
