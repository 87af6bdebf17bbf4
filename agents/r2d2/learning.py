"""The R2D2 learner: recurrent double Q-learning from prioritised replay.

One update samples a batch of stored sequences, restores the stored LSTM state,
burns the first `burn_in_length` steps in without gradient, and fits
h(Q(s_t, a_t)) to the n-step return h(r_t + ... + g^n h^-1(Q_target(s_t+n, a*)))
with a* the online network's greedy action (double Q) and h the value rescaling
h(x) = sign(x)(sqrt(|x|+1)-1) + 1e-3 x (Acme's `transformed_n_step_loss`).
Sequences are weighted by importance weights (1/P(i))^beta normalised by the
batch maximum, and their replay priority becomes 0.9 max|d| + 0.1 mean|d|.

Subclasses change what is fitted by overriding `td_errors` (Behavior Transfer
fits Q(s, a') as well as Q(s, a+)). `AuxiliaryLoss` terms add to the TD loss
(knowledge retention, agents/retention), and a second, demonstration dataset
can be mixed into every batch as R2D3 mixes demonstrations: each sequence
comes from it with probability `demonstration_ratio`, and demonstration
sequences are left out of the TD loss and the priority updates (they are
trained on by the auxiliary losses only).

Cost (see benchmarks/learner_cost.py): the same function as unrolling both
networks with `RecurrentQNetwork.unroll`, computed with less work per update.
`unroll_q_network` runs the LSTM as one fused op over the whole sequence
(TensorFlow's BlockLSTM kernel and its fused gradient) instead of a
`tf.while_loop` of per-step ops, and the target network embeds burn-in and
trace in one batched torso call; online burn-in is unrolled without gradient.
"""

import abc
import math
import time
from typing import (Any, Callable, Dict, Iterator, List, Mapping, NamedTuple,
                    Optional, Sequence, Tuple)

import acme
from acme.adders import reverb as adders
from acme.tf import losses
from acme.tf.losses import r2d2 as acme_r2d2_losses
from acme.tf import savers as tf2_savers
from acme.tf import utils as tf2_utils
from acme.utils import counting
from acme.utils import loggers
import numpy as np
import reverb
import sonnet as snt
from sonnet.src.optimizers import optimizer_utils
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


# h(x) = sign(x)(sqrt(|x| + 1) - 1) + 1e-3 x and its inverse: Acme's own, the
# pair `transformed_n_step_loss` applies, so that Q read back in return units
# (studies/value_route.py) and the a+ target (agents/bt) match the loss.
value_rescaling = acme_r2d2_losses._signed_hyperbolic_tx  # pylint: disable=protected-access
inverse_value_rescaling = acme_r2d2_losses._signed_parabolic_tx  # pylint: disable=protected-access


def compute_priority(errors: tf.Tensor, max_weight: float) -> tf.Tensor:
  """Mixture of max and mean absolute errors over time: [T, B] -> [B]."""
  abs_errors = tf.abs(errors)
  return (max_weight * tf.reduce_max(abs_errors, axis=0) +
          (1 - max_weight) * tf.reduce_mean(abs_errors, axis=0))


def importance_weights(probabilities: tf.Tensor, exponent: float) -> tf.Tensor:
  """(1 / P(i))^beta, normalised so that the largest weight in the batch is 1."""
  weights = tf.pow(1. / tf.cast(probabilities, tf.float32), exponent)
  return weights / tf.reduce_max(weights)


def _fusable_parts(network):
  """(embed, core, head) of a RecurrentQNetwork whose core is a plain
  snt.LSTM, or None when the network must be unrolled with its own `unroll`."""
  parts = tuple(getattr(network, name, None)
                for name in ('_embed', '_core', '_head'))
  embed, core, head = parts
  if (embed is None or head is None or type(core) is not snt.LSTM or  # pylint: disable=unidiomatic-typecheck
      getattr(core, '_projection_size', None) is not None):
    return None
  return parts


def fused_lstm_unroll(core: snt.LSTM, inputs: tf.Tensor,
                      state: snt.LSTMState) -> Tuple[tf.Tensor, snt.LSTMState]:
  """`snt.dynamic_unroll(core, inputs, state)` for a plain snt.LSTM as one op.

  TensorFlow's fused BlockLSTM kernel (and its fused gradient) computes the
  gates of `snt.LSTM` once its weights are reordered from Sonnet's (i, f, g, o)
  layout to the kernel's (i, g, f, o), with no extra forget bias (Sonnet's is
  part of `b`) and no cell clipping. (BlockLSTMV2, which takes Sonnet's
  layout, has a wrong registered gradient in TF 2.8: it calls the V1 gradient
  kernel.)
  """
  def reorder(x):  # (i, f, g, o) -> (i, g, f, o) along the last axis.
    i, f, g, o = tf.split(x, 4, axis=-1)
    return tf.concat([i, g, f, o], axis=-1)
  w = reorder(tf.concat([core.input_to_hidden, core.hidden_to_hidden], 0))
  peephole = tf.zeros(tf.shape(state.hidden)[1:], state.hidden.dtype)
  _, cells, _, _, _, _, hiddens = tf.raw_ops.BlockLSTM(
      seq_len_max=tf.cast(tf.shape(inputs)[0], tf.int64), x=inputs,
      cs_prev=state.cell, h_prev=state.hidden, w=w, wci=peephole,
      wcf=peephole, wco=peephole, b=reorder(core.b), forget_bias=0.,
      cell_clip=-1., use_peephole=False)
  return hiddens, snt.LSTMState(hidden=hiddens[-1], cell=cells[-1])


def unroll_q_network(network: snt.RNNCore, inputs, state,
                     values: bool = True) -> Tuple[Optional[tf.Tensor], Any]:
  """`network.unroll(inputs, state)` over [T, B, ...] inputs, cheaper.

  Same function (to float rounding): torso and head batched over all steps,
  the LSTM fused. With `values=False` only the final state is computed (for
  burn-in), and None is returned in place of the values. Any other recurrent
  Sonnet core is unrolled with its own `unroll`, or step by step.
  """
  parts = _fusable_parts(network)
  if parts is None:
    if hasattr(network, 'unroll'):
      length = tree.flatten(inputs)[0].shape[0]
      q_values, state = network.unroll(inputs, state, length)
    else:
      q_values, state = snt.dynamic_unroll(network, inputs, state)
    return (q_values if values else None), state
  embed, core, head = parts
  embeddings = snt.BatchApply(embed)(inputs)
  # Create the LSTM's variables if this is the network's first call.
  core._initialize(embeddings[0])  # pylint: disable=protected-access
  outputs, state = fused_lstm_unroll(core, embeddings, state)
  if not values:
    return None, state
  return snt.BatchApply(head)(outputs), state


class FusedAdam(snt.optimizers.Adam):
  """`snt.optimizers.Adam` applied with one fused kernel per variable.

  The same update rule and the same state (`step`, `m`, `v`: checkpoints are
  interchangeable with `snt.optimizers.Adam`'s), but each dense update is one
  ResourceApplyAdam op instead of about fifteen small ops. ResourceApplyAdam
  computes lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + e'); with
  e' = epsilon sqrt(1-b2^t) that is Sonnet's lr m_hat / (sqrt(v_hat) + epsilon).

  The fused path needs the moment slots created outside tf.function
  (`create_slots`, which the learners call when their variables exist); when
  they are not, `apply` is Sonnet's.
  """

  def __init__(self, *args, name: str = 'adam', **kwargs):
    super().__init__(*args, name=name, **kwargs)  # Sonnet's variable names.
    self._fused = False

  def create_slots(self, parameters: Callable[[], Sequence[tf.Variable]]
                   ) -> None:
    """Creates m and v now (eagerly) for the variables `parameters()` lists,
    if they exist yet: enables the fused ops."""
    if self.m or not tf.executing_eagerly():
      return
    try:
      variables = parameters()
    except ValueError:  # A Sonnet module without variables yet.
      return
    if variables:
      self._initialize(variables)
      self._fused = True

  def apply(self, updates, parameters):
    if (not self._fused or
        any(isinstance(u, tf.IndexedSlices) for u in updates)):
      return super().apply(updates, parameters)
    optimizer_utils.check_updates_parameters(updates, parameters)
    if len(parameters) != len(self.m):
      raise ValueError(f'{len(parameters)} parameters for {len(self.m)} '
                       'moment slots.')
    self.step.assign_add(1)
    scalars = {}  # Per dtype: the op's scalar inputs, computed once.
    for update, param, m, v in zip(updates, parameters, self.m, self.v):
      if update is None:
        continue
      dtype = update.dtype
      if dtype not in scalars:
        step = tf.cast(self.step, dtype)
        beta1 = tf.cast(self.beta1, dtype)
        beta2 = tf.cast(self.beta2, dtype)
        beta2_power = tf.pow(beta2, step)
        scalars[dtype] = dict(
            beta1_power=tf.pow(beta1, step), beta2_power=beta2_power,
            lr=tf.cast(self.learning_rate, dtype), beta1=beta1, beta2=beta2,
            epsilon=tf.cast(self.epsilon, dtype) * tf.sqrt(1. - beta2_power))
      tf.raw_ops.ResourceApplyAdam(
          var=param.handle, m=m.handle, v=v.handle, grad=update,
          **scalars[dtype])


# How the learner's metrics are named when they stop being finite.
_QUANTITIES = {'loss': 'loss', 'mean_abs_td_error': 'TD errors',
               'mean_q': 'Q values'}


class NonFiniteLearning(ArithmeticError):
  """The learner's loss, TD errors or values became NaN or infinite."""


def check_finite(result: Dict[str, float], metric_names, step: int) -> None:
  """Raises `NonFiniteLearning` naming the first of `metric_names` whose value
  in `result` is NaN or infinite, and the learner step."""
  for name in sorted(metric_names, key=lambda n: (n not in _QUANTITIES, n)):
    value = result[name]
    if not math.isfinite(value):
      raise NonFiniteLearning(
          f'learner {_QUANTITIES.get(name, name)} became '
          f'{"NaN" if math.isnan(value) else value} at step {step}')


class AuxiliaryLoss(abc.ABC):
  """A term added to the TD loss of every update."""

  @abc.abstractmethod
  def __call__(self, q_values: tf.Tensor, data: adders.Step,
               is_demonstration: tf.Tensor, learner_step: tf.Tensor
               ) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
    """The term and the metrics to log.

    Args:
      q_values: [T, B, outputs] online values after burn-in.
      data: the sampled steps after burn-in, time-major.
      is_demonstration: [B] which sequences are demonstrations.
      learner_step: updates done before this one.
    """

  def prepare(self, learner: 'R2D2Learner') -> None:
    """Work before the first update (e.g. statistics of the initial
    weights); called before every update, so it must be cheap once done."""
    del learner

  @property
  def state(self) -> Mapping[str, tf2_savers.Checkpointable]:
    """What the learner's checkpoints hold for this term."""
    return {}


def mix_demonstrations(sample: reverb.ReplaySample,
                       demonstrations: reverb.ReplaySample,
                       ratio: float, seed: tf.Tensor
                       ) -> Tuple[reverb.ReplaySample, tf.Tensor]:
  """One batch whose sequence i is `demonstrations`' i with probability
  `ratio` (else `sample`'s), and the [B] mask of demonstration sequences.
  Both batches hold the same fields; `seed` is a stateless RNG seed [2]."""
  batch_size = tf.shape(sample.info.key)[0]
  is_demonstration = tf.random.stateless_uniform([batch_size], seed) < ratio

  def choose(agent, demonstration):
    agent = tf.convert_to_tensor(agent)
    mask = tf.reshape(is_demonstration,
                      [-1] + [1] * (agent.shape.rank - 1))
    return tf.where(mask, tf.cast(demonstration, agent.dtype), agent)
  return tree.map_structure(choose, sample, demonstrations), is_demonstration


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
               table: str = adders.DEFAULT_PRIORITY_TABLE,
               auxiliary_losses: Sequence[AuxiliaryLoss] = (),
               demonstrations: Optional[Iterator[reverb.ReplaySample]] = None,
               demonstration_ratio: float = 0.):
    """`demonstrations` (with a `demonstration_ratio` > 0) are mixed into
    every batch; `auxiliary_losses` may also read them in `prepare`."""
    self._network = network
    self._target_network = target_network
    self._config = config
    self._iterator = iterator
    self._replay_client = replay_client
    self._table = table
    self._optimizer = FusedAdam(
        config.learning_rate, epsilon=config.adam_epsilon)
    self._optimizer.create_slots(lambda: network.trainable_variables)
    self._num_steps = tf.Variable(0, dtype=tf.int64, name='learner_steps')
    # Every update reaches the counter at once (not a second later), so the
    # counter's checkpoints hold every logged learner step.
    self._counter = counting.Counter(counter, 'learner', time_delta=0.)
    self._logger = logger or loggers.make_default_logger('learner')
    self._timestamp = None
    self._auxiliary_losses = tuple(auxiliary_losses)
    self._demonstrations = demonstrations
    self._demonstration_ratio = demonstration_ratio if demonstrations else 0.

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

  def _check_sequence_length(self, length: Optional[int]) -> None:
    """Refuses sampled sequences of another length than the config's
    burn-in + trace + 1 (replay filled by adders of another config)."""
    expected = self._config.sequence_length
    if length is not None and length != expected:
      raise ValueError(
          f'Sampled sequences hold {length} steps but the learner\'s config '
          f'expects burn_in_length + trace_length + 1 = {expected} '
          f'({self._config.burn_in_length} + {self._config.trace_length} + '
          '1): the replay table or adder was made with another sequence '
          'length.')

  @property
  def demonstrations(self) -> Optional[Iterator[reverb.ReplaySample]]:
    """The demonstration batches, if the learner has them."""
    return self._demonstrations

  def unroll_after_burn_in(self, data: adders.Step
                           ) -> Tuple[tf.Tensor, adders.Step]:
    """Online values [T, B, outputs] of time-major `data` after burn-in
    (from the stored LSTM state, burn-in without gradient), and those steps."""
    batch_size = data.reward.shape[1]
    if self._config.store_lstm_state:
      core_state = tree.map_structure(lambda x: x[0], data.extras['core_state'])
    else:
      core_state = self._network.initial_state(batch_size)
    burn_in = self._config.burn_in_length
    if burn_in:
      burn_in_obs = tree.map_structure(lambda x: x[:burn_in], data.observation)
      _, core_state = unroll_q_network(
          self._network, burn_in_obs, core_state, values=False)
      core_state = tree.map_structure(tf.stop_gradient, core_state)
      data = tree.map_structure(lambda x: x[burn_in:], data)
    q_values, _ = unroll_q_network(self._network, data.observation, core_state)
    return q_values, data

  def loss_and_priorities(self, sample: reverb.ReplaySample,
                          is_demonstration: Optional[tf.Tensor] = None):
    """The weighted loss, the new priorities and metrics of one batch
    (`is_demonstration` [B]: sequences left out of the TD loss)."""
    data = tf2_utils.batch_to_sequence(sample.data)
    self._check_sequence_length(data.reward.shape[0])
    batch_size = data.reward.shape[1]
    if self._config.store_lstm_state:
      target_core_state = tree.map_structure(
          lambda x: x[0], data.extras['core_state'])
    else:
      target_core_state = self._target_network.initial_state(batch_size)
    # The target network needs no gradient: one torso call and one LSTM
    # unroll over burn-in and trace together, from the stored state.
    target_q_values, _ = unroll_q_network(
        self._target_network, data.observation, target_core_state)
    target_q_values = tf.stop_gradient(
        target_q_values[self._config.burn_in_length:])
    q_values, data = self.unroll_after_burn_in(data)
    td = self.td_errors(q_values, target_q_values, data)
    probabilities = sample.info.probability
    if is_demonstration is None:
      is_demonstration = tf.zeros([batch_size], tf.bool)
    else:  # Demonstrations neither weigh on nor set the agent's priorities.
      probabilities = tf.where(is_demonstration,
                               tf.ones_like(probabilities), probabilities)
    weights = importance_weights(probabilities,
                                 self._config.importance_sampling_exponent)
    weights *= 1. - tf.cast(is_demonstration, weights.dtype)
    per_sequence_loss = 0.5 * tf.reduce_sum(td.squared_step_errors(), axis=0)
    td_loss = tf.reduce_mean(per_sequence_loss * weights)
    step_errors = td.step_errors()
    priorities = compute_priority(step_errors, self._config.max_priority_weight)
    loss = td_loss
    metrics = {}
    for term in self._auxiliary_losses:
      value, term_metrics = term(q_values, data, is_demonstration,
                                 self._num_steps)
      loss += value
      metrics.update(term_metrics)
    metrics.update({
        'loss': loss,
        'mean_abs_td_error': tf.reduce_mean(step_errors),
        'mean_q': tf.reduce_mean(q_values),
    })
    if self._auxiliary_losses:
      metrics['td_loss'] = td_loss
    return loss, priorities, metrics

  @tf.function
  def _step(self) -> Dict[str, tf.Tensor]:
    sample = next(self._iterator)
    if not self._demonstration_ratio:
      return self.update(sample)
    sample, is_demonstration = mix_demonstrations(
        sample, next(self._demonstrations), self._demonstration_ratio,
        tf.stack([tf.constant(7, tf.int64), self._num_steps]))
    return self.update(sample, is_demonstration)

  def update(self, sample: reverb.ReplaySample,
             is_demonstration: Optional[tf.Tensor] = None
             ) -> Dict[str, tf.Tensor]:
    """One update on a sampled batch (`is_demonstration` [B]: its
    demonstration sequences); returns the metrics to log."""
    with tf.GradientTape() as tape:
      loss, priorities, metrics = self.loss_and_priorities(
          sample, is_demonstration)
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
      keys = sample.info.key
      if is_demonstration is not None:
        agent = tf.logical_not(is_demonstration)
        keys = tf.boolean_mask(keys, agent)
        priorities = tf.boolean_mask(priorities, agent)

      def write_priorities():
        self._replay_client.update_priorities(
            table=self._table, keys=keys,
            priorities=tf.cast(priorities, tf.float64))
        return tf.constant(True)

      # Reverb fails the whole step on a NaN priority, before `step` could
      # name what diverged: skip the write, and `check_finite` stops the
      # learner on this step with the reason.
      tf.cond(tf.reduce_all(tf.math.is_finite(priorities)), write_priorities,
              lambda: tf.constant(False))
    return metrics

  def step(self):
    """One update, logged; raises `NonFiniteLearning` (after logging the
    row) when its loss, TD errors or values are NaN or infinite."""
    for term in self._auxiliary_losses:
      term.prepare(self)
    metrics = self._step()
    now = time.time()
    elapsed = now - self._timestamp if self._timestamp else 0.
    self._timestamp = now
    counts = self._counter.increment(steps=1, walltime=elapsed)
    result = {k: float(v) for k, v in metrics.items()}
    result['learner_steps_per_second'] = 1. / elapsed if elapsed else 0.
    result.update(counts)
    self._logger.write(result)
    check_finite(result, metrics, int(self._num_steps.numpy()))

  @property
  def network(self) -> snt.RNNCore:
    """The online Q-network being trained."""
    return self._network

  def variables_by_name(self) -> Dict[str, Sequence[tf.Variable]]:
    """What actors may fetch: 'policy' is the online Q-network."""
    return {'policy': self._network.variables}

  def get_variables(self, names: List[str]) -> List[List[np.ndarray]]:
    variables = self.variables_by_name()
    return [tf2_utils.to_numpy(variables[name]) for name in names]

  @property
  def state(self) -> Mapping[str, tf2_savers.Checkpointable]:
    state = {
        'network': self._network,
        'target_network': self._target_network,
        'optimizer': self._optimizer,
        'num_steps': self._num_steps,
    }
    for index, term in enumerate(self._auxiliary_losses):
      if term.state:
        state[f'auxiliary_{index}'] = term.state
    return state
