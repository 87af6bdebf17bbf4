"""NGU's embedding and RND training on a small fixed batch."""

from acme.adders.reverb import base as adder_base
from acme.wrappers import observation_action_reward
import numpy as np
import pytest
import tensorflow as tf

from behavior_transfer.agents.ngu import learning
from behavior_transfer.agents.ngu import networks

T, B, NUM_ACTIONS = 6, 4, 7


def fixed_batch(seed=0):
  """Time-major steps where the action is readable from the observation change."""
  rng = np.random.RandomState(seed)
  images = rng.randint(0, 6, size=(T, B, 7, 7, 3)).astype(np.uint8)
  actions = rng.randint(NUM_ACTIONS, size=(T, B)).astype(np.int32)
  images[1:, :, 0, 0, 0] = actions[:-1]  # s_{t+1} shows a_t in one cell.
  start = np.zeros((T, B), bool)
  start[3, 0] = True
  return adder_base.Step(
      observation=observation_action_reward.OAR(
          observation=tf.constant(images), action=tf.constant(actions),
          reward=tf.zeros((T, B))),
      action=tf.constant(actions), reward=tf.zeros((T, B)),
      discount=tf.ones((T, B)), start_of_episode=tf.constant(start), extras={})


def test_inverse_dynamics_and_rnd_losses_fall_and_the_rnd_target_stays_fixed():
  tf.random.set_seed(0)
  models = networks.IntrinsicModels('minigrid', NUM_ACTIONS)
  trainer = learning.IntrinsicModelTrainer(models, learning_rate=3e-3)
  batch = fixed_batch()
  before = {k: float(v) for k, v in trainer.losses(batch).items()}
  target_before = [v.numpy().copy() for v in models.rnd._target.variables]  # pylint: disable=protected-access
  step = tf.function(trainer.step)
  for _ in range(60):
    step(batch)
  after = {k: float(v) for k, v in trainer.losses(batch).items()}
  assert after['inverse_dynamics_loss'] < 0.5 * before['inverse_dynamics_loss']
  assert after['rnd_loss'] < 0.5 * before['rnd_loss']
  for old, variable in zip(target_before, models.rnd._target.variables):  # pylint: disable=protected-access
    np.testing.assert_array_equal(old, variable.numpy())


def test_actor_outputs_have_the_configured_sizes():
  models = networks.IntrinsicModels('minigrid', NUM_ACTIONS, embedding_size=32)
  embedding, error = models(tf.zeros((5, 7, 7, 3), tf.uint8))
  assert embedding.shape == (5, 32) and error.shape == (5,)


def test_observation_normalizer_matches_running_numpy_statistics():
  rng = np.random.RandomState(0)
  normalizer = networks.ObservationNormalizer(clip=5.)
  scale = rng.uniform(0.5, 20., size=(2, 3))
  scale[0, 0] = 0.  # A dimension that never changes.
  probe = rng.randn(4, 2, 3).astype(np.float32) * 30.
  # Before any statistics: observations pass through, clipped.
  np.testing.assert_allclose(normalizer(probe), np.clip(probe, -5., 5.))
  seen = []
  for size in (3, 17, 40, 1):
    batch = (rng.randn(size, 2, 3) * scale + 7.).astype(np.float32)
    normalizer.update(batch)
    seen.append(batch)
    everything = np.concatenate(seen)
    np.testing.assert_allclose(normalizer.mean, everything.mean(0), rtol=1e-5)
    np.testing.assert_allclose(normalizer.variance, everything.var(0),
                               rtol=1e-4, atol=1e-5)
    assert float(normalizer.count) == len(everything)
  expected = np.clip((probe - everything.mean(0)) /
                     np.sqrt(everything.var(0) + 1e-8), -5., 5.)
  np.testing.assert_allclose(normalizer(probe), expected, rtol=1e-4, atol=1e-4)


def test_learner_updates_rnd_statistics_that_actors_fetch_with_the_models():
  models = networks.IntrinsicModels('minigrid', NUM_ACTIONS)
  models.create_variables(tf.TensorSpec((7, 7, 3), tf.uint8))
  normalizer = models.rnd.normalizer
  assert any(v is normalizer.mean for v in models.variables)
  assert not any(v is normalizer.mean for v in models.learned_variables)
  batch = fixed_batch()
  learning.IntrinsicModelTrainer(models, learning_rate=1e-3).step(batch)
  images = batch.observation.observation.numpy().reshape(T * B, 7, 7, 3)
  assert float(normalizer.count) == T * B
  np.testing.assert_allclose(normalizer.mean, images.mean(0), rtol=1e-5)
  # Without normalisation RND has no statistics to share.
  assert networks.IntrinsicModels(
      'minigrid', NUM_ACTIONS,
      normalize_rnd_observations=False).rnd.normalizer is None


def test_intrinsic_models_train_on_the_configured_fraction_of_a_batch():
  assert learning.intrinsic_sequences(32, 0.125) == 4
  assert learning.intrinsic_sequences(32, 1.) == 32
  assert learning.intrinsic_sequences(8, 0.125) == 1
  assert learning.intrinsic_sequences(5, 0.01) == 1  # At least one.
  for fraction in (0., 1.5):
    with pytest.raises(ValueError, match='intrinsic_batch_fraction'):
      learning.intrinsic_sequences(32, fraction)
