"""NGU's learned parts: the embedding f with its inverse-dynamics head, and RND.

f maps an observation to a small "controllable state" embedding; it is trained
only through an inverse-dynamics classifier p(a_t | f(s_t), f(s_{t+1})), so it
keeps what the agent's actions change. RND's predictor g_hat regresses a fixed,
randomly initialised target g; its error is large on rarely seen observations.
RND sees observations whitened by running per-dimension statistics and clipped
to [-5, 5] (Burda et al. 2019, as NGU uses it), so that no pixel's constant
offset or scale dominates the error. Both take the observation image (not the
OAR tuple) and reuse the Q-network torsos.
"""

import functools
from typing import Callable, Optional

import sonnet as snt
import tensorflow as tf

from behavior_transfer import networks

TorsoFactory = Callable[[], snt.Module]


class ObservationNormalizer(snt.Module):
  """Running per-dimension mean and variance of observations, and the
  whitening (x - mean) / std clipped to [-clip, clip].

  The statistics are variables: the learner updates them from the
  observations it trains RND on, and actors fetch them with the models.
  Before the first update it passes observations through (clipped).
  """

  def __init__(self, clip: float = 5., epsilon: float = 1e-8,
               name: str = 'observation_normalizer'):
    super().__init__(name=name)
    self._clip = clip
    self._epsilon = epsilon

  @snt.once
  def _create_variables(self, observation: tf.Tensor) -> None:
    shape = observation.shape[1:]
    self.count = tf.Variable(0., dtype=tf.float64, trainable=False,
                             name='count')
    self.mean = tf.Variable(tf.zeros(shape), trainable=False, name='mean')
    self.variance = tf.Variable(tf.ones(shape), trainable=False,
                                name='variance')

  def update(self, observations: tf.Tensor) -> None:
    """Merges a [N, ...] batch's moments into the running ones (Chan et
    al.'s parallel algorithm)."""
    self._create_variables(observations)
    observations = tf.cast(observations, tf.float32)
    batch_mean, batch_variance = tf.nn.moments(observations, axes=[0])
    batch_count = tf.cast(tf.shape(observations)[0], tf.float64)
    total = self.count + batch_count
    weight = tf.cast(batch_count / total, tf.float32)
    delta = batch_mean - self.mean
    self.mean.assign_add(delta * weight)
    self.variance.assign(
        self.variance * (1. - weight) + batch_variance * weight +
        tf.square(delta) * weight * (1. - weight))
    self.count.assign(total)

  def __call__(self, observations: tf.Tensor) -> tf.Tensor:
    self._create_variables(observations)
    whitened = ((tf.cast(observations, tf.float32) - self.mean) /
                tf.sqrt(self.variance + self._epsilon))
    return tf.clip_by_value(whitened, -self._clip, self._clip)


class Embedding(snt.Module):
  """f: observation -> controllable-state embedding."""

  def __init__(self, torso: snt.Module, size: int, name: str = 'embedding'):
    super().__init__(name=name)
    self._torso = torso
    self._linear = snt.Linear(size)

  def __call__(self, observation: tf.Tensor) -> tf.Tensor:
    return tf.nn.relu(self._linear(self._torso(observation)))


class InverseDynamics(snt.Module):
  """Logits of a_t from (f(s_t), f(s_{t+1}))."""

  def __init__(self, num_actions: int, hidden_size: int = 128,
               name: str = 'inverse_dynamics'):
    super().__init__(name=name)
    self._mlp = snt.nets.MLP([hidden_size, num_actions])

  def __call__(self, embedding: tf.Tensor, next_embedding: tf.Tensor):
    return self._mlp(tf.concat([embedding, next_embedding], axis=-1))


class RandomNetworkDistillation(snt.Module):
  """A frozen random target g and a trained predictor g_hat, on whitened
  observations when `normalizer` is given (raw ones otherwise)."""

  def __init__(self, torso_factory_fn: TorsoFactory, output_size: int,
               normalizer: Optional[ObservationNormalizer] = None,
               name: str = 'rnd'):
    super().__init__(name=name)
    self.normalizer = normalizer
    self._target = snt.Sequential([torso_factory_fn(), snt.Linear(output_size)],
                                  name='target')
    self.predictor = snt.Sequential(
        [torso_factory_fn(), snt.nets.MLP([output_size, output_size])],
        name='predictor')

  def error(self, observation: tf.Tensor) -> tf.Tensor:
    """||g_hat(s) - g(s)||^2 per observation; no gradient into g."""
    if self.normalizer is not None:
      observation = self.normalizer(observation)
    target = tf.stop_gradient(self._target(observation))
    return tf.reduce_sum(tf.square(self.predictor(observation) - target), -1)


class IntrinsicModels(snt.Module):
  """Everything NGU learns besides the Q-network."""

  def __init__(self, domain: str, num_actions: int, embedding_size: int = 32,
               rnd_output_size: int = 128,
               normalize_rnd_observations: bool = True,
               network_size: str = 'standard'):
    """`network_size` picks the torsos of that Q-network preset."""
    super().__init__(name='intrinsic_models')
    torso_factory = functools.partial(networks.torso_factory, domain,
                                      network_size)
    self.embedding = Embedding(torso_factory()(), embedding_size)
    self.inverse_dynamics = InverseDynamics(num_actions)
    if normalize_rnd_observations:
      self.rnd = RandomNetworkDistillation(
          torso_factory(rescale=False), rnd_output_size,
          ObservationNormalizer())
    else:
      self.rnd = RandomNetworkDistillation(torso_factory(), rnd_output_size)

  def create_variables(self, observation_spec) -> None:
    """Creates every variable, so learner and actors list the same ones."""
    observation = tf.zeros((1,) + tuple(observation_spec.shape),
                           observation_spec.dtype)
    embedding, _ = self(observation)
    self.inverse_dynamics(embedding, embedding)

  def __call__(self, observation: tf.Tensor):
    """(f(s), RND error) for a batch of observations: what actors need."""
    return self.embedding(observation), self.rnd.error(observation)

  @property
  def learned_variables(self):
    """f, the inverse-dynamics head and the RND predictor; never g."""
    return (self.embedding.trainable_variables +
            self.inverse_dynamics.trainable_variables +
            self.rnd.predictor.trainable_variables)
