"""NGU's learned parts: the embedding f with its inverse-dynamics head, and RND.

f maps an observation to a small "controllable state" embedding; it is trained
only through an inverse-dynamics classifier p(a_t | f(s_t), f(s_{t+1})), so it
keeps what the agent's actions change. RND's predictor g_hat regresses a fixed,
randomly initialised target g; its error is large on rarely seen observations.
Both take the raw observation image (not the OAR tuple) and reuse the
Q-network torsos.
"""

from typing import Callable

import sonnet as snt
import tensorflow as tf

from behavior_transfer.networks import q_network

TorsoFactory = Callable[[], snt.Module]


def torso_factory(domain: str) -> TorsoFactory:
  """The observation torso of a domain's Q-network preset."""
  if domain == 'atari':
    return q_network.AtariTorso
  if domain == 'minigrid':
    return q_network.MiniGridTorso
  raise ValueError(f'No torso for domain {domain!r}; valid: atari, minigrid.')


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
  """A frozen random target g and a trained predictor g_hat."""

  def __init__(self, torso_factory_fn: TorsoFactory, output_size: int,
               name: str = 'rnd'):
    super().__init__(name=name)
    self._target = snt.Sequential([torso_factory_fn(), snt.Linear(output_size)],
                                  name='target')
    self.predictor = snt.Sequential(
        [torso_factory_fn(), snt.nets.MLP([output_size, output_size])],
        name='predictor')

  def error(self, observation: tf.Tensor) -> tf.Tensor:
    """||g_hat(s) - g(s)||^2 per observation; no gradient into g."""
    target = tf.stop_gradient(self._target(observation))
    return tf.reduce_sum(tf.square(self.predictor(observation) - target), -1)


class IntrinsicModels(snt.Module):
  """Everything NGU learns besides the Q-network."""

  def __init__(self, domain: str, num_actions: int, embedding_size: int = 32,
               rnd_output_size: int = 128):
    super().__init__(name='intrinsic_models')
    make_torso = torso_factory(domain)
    self.embedding = Embedding(make_torso(), embedding_size)
    self.inverse_dynamics = InverseDynamics(num_actions)
    self.rnd = RandomNetworkDistillation(make_torso, rnd_output_size)

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
