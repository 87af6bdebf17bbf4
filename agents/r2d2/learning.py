"""The R2D2 learner: recurrent double Q-learning from prioritised replay.

One update samples a batch of stored sequences, restores the stored LSTM state,
burns the first `burn_in_length` steps in without gradient, and fits
h(Q(s_t, a_t)) to the n-step return h(r_t + ... + g^n h^-1(Q_target(s_t+n, a*)))
with a* the online network's greedy action (double Q) and h the value rescaling
h(x) = sign(x)(sqrt(|x|+1)-1) + 1e-3 x (Acme's `transformed_n_step_loss`).
Sequences are weighted by importance weights (1/P(i))^beta normalised by the
batch maximum, and their replay priority becomes 0.9 max|d| + 0.1 mean|d|.

Subclasses change what is fitted by overriding `td_errors` (Behavior Transfer
fits Q(s, a') as well as Q(s, a+)).
"""

import time
from typing import Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence

import acme
from acme.adders import reverb as adders
from acme.tf import losses
from acme.tf import savers as tf2_savers
from acme.tf import utils as tf2_utils
from acme.utils import counting
from acme.utils import loggers
import numpy as np
import reverb
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.networks import q_network


class TDErrors(NamedTuple):
  """What an update fits, in rescaled space.

  `errors` is [T, B], or [T, B, K] when a step fits K values; the loss is
  0.5 * sum over time (and K) of error^2, and the priority comes from each
  step's error norm, so that priorities follow the loss.
  """
  errors: tf.Tensor
  targets: tf.Tensor  # [T, B] untransformed n-step returns.

  def squared_step_errors(self) -> tf.Tensor:
    """[T, B] squared error of each step, summed over its fitted values."""
    if self.errors.shape.rank == 2:
      return tf.square(self.errors)
    return tf.reduce_sum(tf.square(self.errors), axis=-1)

  def step_errors(self) -> tf.Tensor:
    """[T, B] error size of each step (the L2 norm), for priorities only."""
    if self.errors.shape.rank == 2:
      return tf.abs(self.errors)
    return tf.stop_gradient(tf.sqrt(self.squared_step_errors()))


def value_rescaling(x: tf.Tensor, eps: float = 1e-3) -> tf.Tensor:
  """h(x) = sign(x)(sqrt(|x| + 1) - 1) + eps x."""
  return tf.sign(x) * (tf.sqrt(tf.abs(x) + 1.) - 1.) + eps * x


def compute_priority(errors: tf.Tensor, max_weight: float) -> tf.Tensor:
  """Mixture of max and mean absolute errors over time: [T, B] -> [B]."""
  abs_errors = tf.abs(errors)
  return (max_weight * tf.reduce_max(abs_errors, axis=0) +
          (1 - max_weight) * tf.reduce_mean(abs_errors, axis=0))


def importance_weights(probabilities: tf.Tensor, exponent: float) -> tf.Tensor:
  """(1 / P(i))^beta, normalised so that the largest weight in the batch is 1."""
  weights = tf.pow(1. / tf.cast(probabilities, tf.float32), exponent)
  return weights / tf.reduce_max(weights)


class R2D2Learner(acme.Learner, tf2_savers.TFSaveable):
  """Learns a recurrent Q-network from sequences in prioritised replay."""

  def __init__(self,
               network: q_network.RecurrentQNetwork,
               target_network: q_network.RecurrentQNetwork,
               config: r2d2_config.R2D2Config,
               iterator: Optional[Iterator[reverb.ReplaySample]] = None,
               replay_client: Optional[reverb.TFClient] = None,
               counter: Optional[counting.Counter] = None,
               logger: Optional[loggers.Logger] = None,
               table: str = adders.DEFAULT_PRIORITY_TABLE):
    self._network = network
    self._target_network = target_network
    self._config = config
    self._iterator = iterator
    self._replay_client = replay_client
    self._table = table
    self._optimizer = snt.optimizers.Adam(
        config.learning_rate, epsilon=config.adam_epsilon)
    self._num_steps = tf.Variable(0, dtype=tf.int64, name='learner_steps')
    # Every update reaches the counter at once (not a second later), so the
    # counter's checkpoints hold every logged learner step.
    self._counter = counting.Counter(counter, 'learner', time_delta=0.)
    self._logger = logger or loggers.make_default_logger('learner')
    self._timestamp = None

  def td_errors(self, q_values: tf.Tensor, target_q_values: tf.Tensor,
                data: adders.Step) -> TDErrors:
    """Double-Q n-step errors of Q(s_t, a_t) for t < T-1, in rescaled space.

    Args:
      q_values: [T, B, outputs] online values after burn-in.
      target_q_values: [T, B, outputs] target-network values.
      data: the sampled steps after burn-in, time-major.
    """
    greedy = tf.argmax(q_values, axis=-1, output_type=tf.int32)
    loss = losses.transformed_n_step_loss(
        qs=q_values,
        targnet_qs=target_q_values,
        actions=tf.cast(data.action, tf.int32),
        rewards=data.reward[:-1],
        pcontinues=data.discount[:-1] * self._config.discount,
        target_policy_probs=tf.one_hot(
            greedy, q_values.shape[-1], dtype=q_values.dtype),
        bootstrap_n=self._config.n_step)
    return TDErrors(errors=loss.extra.errors, targets=loss.extra.targets)

  def loss_and_priorities(self, sample: reverb.ReplaySample):
    """The weighted loss, the new priorities and metrics of one batch."""
    data = tf2_utils.batch_to_sequence(sample.data)
    batch_size = data.reward.shape[1]
    if self._config.store_lstm_state:
      core_state = tree.map_structure(lambda x: x[0], data.extras['core_state'])
    else:
      core_state = self._network.initial_state(batch_size)
    target_core_state = tree.map_structure(tf.identity, core_state)

    burn_in = self._config.burn_in_length
    if burn_in:
      burn_in_obs = tree.map_structure(lambda x: x[:burn_in], data.observation)
      _, core_state = self._network.unroll(burn_in_obs, core_state, burn_in)
      _, target_core_state = self._target_network.unroll(
          burn_in_obs, target_core_state, burn_in)
      core_state, target_core_state = tree.map_structure(
          tf.stop_gradient, (core_state, target_core_state))
      data = tree.map_structure(lambda x: x[burn_in:], data)

    length = data.reward.shape[0]
    q_values, _ = self._network.unroll(data.observation, core_state, length)
    target_q_values, _ = self._target_network.unroll(data.observation,
                                                     target_core_state, length)
    td = self.td_errors(q_values, target_q_values, data)
    weights = importance_weights(sample.info.probability,
                                 self._config.importance_sampling_exponent)
    per_sequence_loss = 0.5 * tf.reduce_sum(td.squared_step_errors(), axis=0)
    loss = tf.reduce_mean(per_sequence_loss * weights)
    step_errors = td.step_errors()
    priorities = compute_priority(step_errors, self._config.max_priority_weight)
    metrics = {
        'loss': loss,
        'mean_abs_td_error': tf.reduce_mean(step_errors),
        'mean_q': tf.reduce_mean(q_values),
    }
    return loss, priorities, metrics

  @tf.function
  def _step(self) -> Dict[str, tf.Tensor]:
    return self.update(next(self._iterator))

  def update(self, sample: reverb.ReplaySample) -> Dict[str, tf.Tensor]:
    """One update on a sampled batch; returns the metrics to log."""
    with tf.GradientTape() as tape:
      loss, priorities, metrics = self.loss_and_priorities(sample)
    variables = self._network.trainable_variables
    gradients = tape.gradient(loss, variables)
    gradients, _ = tf.clip_by_global_norm(gradients,
                                          self._config.clip_grad_norm)
    self._optimizer.apply(gradients, variables)

    if self._num_steps % self._config.target_update_period == 0:
      for source, target in zip(self._network.variables,
                                self._target_network.variables):
        target.assign(source)
    self._num_steps.assign_add(1)

    if self._replay_client is not None:
      self._replay_client.update_priorities(
          table=self._table,
          keys=sample.info.key,
          priorities=tf.cast(priorities, tf.float64))
    return metrics

  def step(self):
    metrics = self._step()
    now = time.time()
    elapsed = now - self._timestamp if self._timestamp else 0.
    self._timestamp = now
    counts = self._counter.increment(steps=1, walltime=elapsed)
    result = {k: float(v) for k, v in metrics.items()}
    result['learner_steps_per_second'] = 1. / elapsed if elapsed else 0.
    result.update(counts)
    self._logger.write(result)

  def variables_by_name(self) -> Dict[str, Sequence[tf.Variable]]:
    """What actors may fetch: 'policy' is the online Q-network."""
    return {'policy': self._network.variables}

  def get_variables(self, names: List[str]) -> List[List[np.ndarray]]:
    variables = self.variables_by_name()
    return [tf2_utils.to_numpy(variables[name]) for name in names]

  @property
  def state(self) -> Mapping[str, tf2_savers.Checkpointable]:
    return {
        'network': self._network,
        'target_network': self._target_network,
        'optimizer': self._optimizer,
        'num_steps': self._num_steps,
    }
