"""The retention terms the R2D2 learner adds to its TD loss.

Each is an `r2d2.learning.AuxiliaryLoss`. pi_p's action distribution at a
step is what the actor (or the demonstrator) stored with it, extras
'pretrained_policy'; steps where it sums to 0 (an episode's last observation
and the padding after it) are not trained on. Every KL is over the primitive
actions: a+ (the last output, when present) is left out.
"""

from typing import Dict, Sequence, Tuple

from acme.adders import reverb as adders
from acme.tf import utils as tf2_utils
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer.agents.r2d2 import learning
from behavior_transfer.agents.retention import config as retention_config

PRETRAINED_POLICY = 'pretrained_policy'  # The extras field.


def _masked_mean(values: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
  mask = tf.cast(mask, values.dtype)
  return tf.reduce_sum(values * mask) / tf.maximum(tf.reduce_sum(mask), 1.)


def trained_steps(data: adders.Step, sequences: tf.Tensor) -> tf.Tensor:
  """[T, B] steps with pi_p's distribution, in the [B] `sequences`."""
  has_target = tf.reduce_sum(data.extras[PRETRAINED_POLICY], axis=-1) > 0
  return tf.logical_and(has_target, sequences[None, :])


def kl_from_pretrained(q_values: tf.Tensor, pretrained: tf.Tensor,
                       temperature: float) -> tf.Tensor:
  """[T, B] KL(pi_p || softmax(Q / temperature)) over pi_p's |A| actions."""
  num_actions = pretrained.shape[-1]
  log_policy = tf.nn.log_softmax(q_values[..., :num_actions] / temperature)
  return tf.reduce_sum(
      tf.math.xlogy(pretrained, pretrained) - pretrained * log_policy, -1)


def large_margin(q_values: tf.Tensor, actions: tf.Tensor,
                 margin: float) -> tf.Tensor:
  """[T, B] DQfD's max_a [Q(s, a) + margin 1(a != a_p)] - Q(s, a_p) over the
  |A| primitive actions (`actions` [T, B, |A|] one-hot at a_p)."""
  q_values = q_values[..., :actions.shape[-1]]
  return (tf.reduce_max(q_values + margin * (1. - actions), axis=-1) -
          tf.reduce_sum(q_values * actions, axis=-1))


class Kickstarting(learning.AuxiliaryLoss):
  """lambda_t KL(pi_p || softmax(Q / tau)) on the agent's own sequences,
  lambda_t = max(lambda_0 decay^t, floor)."""

  def __init__(self, config: retention_config.RetentionConfig):
    self._config = config

  def coefficient(self, learner_step: tf.Tensor) -> tf.Tensor:
    config = self._config
    # In float64: 0.99998 is 0.9999800 in float32, off by 1e-5 per 1,000
    # steps.
    decayed = config.kickstarting_coefficient * tf.pow(
        tf.constant(config.kickstarting_decay, tf.float64),
        tf.cast(learner_step, tf.float64))
    return tf.cast(tf.maximum(decayed, config.kickstarting_floor), tf.float32)

  def __call__(self, q_values, data, is_demonstration, learner_step):
    kl = kl_from_pretrained(q_values, data.extras[PRETRAINED_POLICY],
                            self._config.q_temperature)
    loss = _masked_mean(
        kl, trained_steps(data, tf.logical_not(is_demonstration)))
    coefficient = self.coefficient(learner_step)
    return coefficient * loss, {'kickstarting_loss': loss,
                                'kickstarting_coefficient': coefficient}


class BehaviouralCloning(learning.AuxiliaryLoss):
  """coefficient x the cloning loss towards pi_p on demonstration sequences
  (KL, or DQfD's large margin at pi_p's action)."""

  def __init__(self, config: retention_config.RetentionConfig):
    self._config = config

  def __call__(self, q_values, data, is_demonstration, learner_step):
    del learner_step
    config = self._config
    pretrained = data.extras[PRETRAINED_POLICY]
    if config.cloning_loss == retention_config.CloningLoss.KL:
      per_step = kl_from_pretrained(q_values, pretrained, config.q_temperature)
    else:
      per_step = large_margin(
          q_values, tf.one_hot(tf.argmax(pretrained, axis=-1),
                               pretrained.shape[-1]), config.cloning_margin)
    loss = _masked_mean(per_step, trained_steps(data, is_demonstration))
    return config.cloning_coefficient * loss, {
        'cloning_loss': loss,
        'demonstration_fraction': tf.reduce_mean(
            tf.cast(is_demonstration, tf.float32))}


def protected_variables(network: snt.Module) -> Sequence[tf.Variable]:
  """What EWC keeps near the pre-trained weights: torso and LSTM."""
  if not hasattr(network, 'torso_and_core_variables'):
    raise ValueError(f'EWC protects a RecurrentQNetwork\'s torso and LSTM; '
                     f'{type(network).__name__} does not say which they are.')
  return network.torso_and_core_variables


class ElasticWeightConsolidation(learning.AuxiliaryLoss):
  """lambda sum_i F_i (theta_i - theta*_i)^2 over the protected variables.

  theta* is the learner's network before its first update (the pre-trained
  weights it was initialised with); F is the diagonal empirical Fisher of
  log softmax(Q / tau) at pi_p's action: the squared gradient of each step's
  log-likelihood, averaged over the steps of `fisher_batches` demonstration
  batches. Both are taken once and kept in the learner's checkpoints, so a
  resumed run keeps its anchor.
  """

  def __init__(self, config: retention_config.RetentionConfig,
               network: snt.Module):
    self._config = config
    self._variables = protected_variables(network)
    self._anchors = [tf.Variable(v, trainable=False) for v in self._variables]
    self._fisher = [tf.Variable(tf.zeros_like(v), trainable=False)
                    for v in self._variables]
    self._ready = tf.Variable(False, trainable=False)

  @property
  def fisher(self) -> Sequence[tf.Variable]:
    return self._fisher

  @property
  def anchors(self) -> Sequence[tf.Variable]:
    return self._anchors

  def prepare(self, learner: learning.R2D2Learner) -> None:
    if bool(self._ready.numpy()):
      return
    if learner.demonstrations is None:
      raise ValueError('EWC takes its Fisher on pi_p\'s demonstrations; the '
                       'learner has none.')
    for anchor, variable in zip(self._anchors, self._variables):
      anchor.assign(variable)
    sums = [tf.zeros_like(v) for v in self._variables]
    steps = 0.
    for _ in range(self._config.fisher_batches):
      data = tf2_utils.batch_to_sequence(next(learner.demonstrations).data)
      for index in range(data.reward.shape[1]):
        sequence = tree.map_structure(lambda x, i=index: x[:, i:i + 1], data)
        squares, count = self._squared_gradients(learner, sequence)
        sums = [s + g for s, g in zip(sums, squares)]
        steps += float(count)
    for fisher, total in zip(self._fisher, sums):
      fisher.assign(total / max(steps, 1.))
    self._ready.assign(True)

  @tf.function
  def _squared_gradients(self, learner: learning.R2D2Learner,
                         sequence: adders.Step
                         ) -> Tuple[Sequence[tf.Tensor], tf.Tensor]:
    """Sum over one sequence's trained steps of each step's squared
    log-likelihood gradient, and how many steps that is."""
    with tf.GradientTape(persistent=True) as tape:
      q_values, sequence = learner.unroll_after_burn_in(sequence)
      pretrained = sequence.extras[PRETRAINED_POLICY]
      num_actions = pretrained.shape[-1]
      log_policy = tf.nn.log_softmax(
          q_values[..., :num_actions] / self._config.q_temperature)
      log_likelihood = tf.reduce_sum(
          log_policy * tf.one_hot(tf.argmax(pretrained, -1), num_actions),
          -1)[:, 0]  # [T]
    mask = tf.cast(trained_steps(sequence, tf.constant([True]))[:, 0],
                   tf.float32)
    jacobians = tape.jacobian(log_likelihood, self._variables,
                              experimental_use_pfor=False)
    squares = [tf.einsum('t,t...->...', mask, tf.square(j))
               for j in jacobians]
    return squares, tf.reduce_sum(mask)

  def penalty(self) -> tf.Tensor:
    return tf.add_n([tf.reduce_sum(f * tf.square(v - a)) for f, v, a in zip(
        self._fisher, self._variables, self._anchors)])

  def __call__(self, q_values, data, is_demonstration, learner_step):
    del q_values, data, is_demonstration, learner_step
    penalty = self.penalty()
    return self._config.ewc_coefficient * penalty, {'ewc_penalty': penalty}

  @property
  def state(self):
    return {'anchors': self._anchors, 'fisher': self._fisher,
            'ready': self._ready}


def make_losses(config: retention_config.RetentionConfig,
                network: snt.Module) -> Tuple[learning.AuxiliaryLoss, ...]:
  """The terms of `config.methods`, for the learner's online `network`."""
  Method = retention_config.Method  # pylint: disable=invalid-name
  terms = []
  if config.uses(Method.KICKSTARTING):
    terms.append(Kickstarting(config))
  if config.uses(Method.BEHAVIOURAL_CLONING):
    terms.append(BehaviouralCloning(config))
  if config.uses(Method.EWC):
    terms.append(ElasticWeightConsolidation(config, network))
  return tuple(terms)


def columns(config: retention_config.RetentionConfig) -> Tuple[str, ...]:
  """The learner's log columns the terms of `config` add."""
  Method = retention_config.Method  # pylint: disable=invalid-name
  names = {Method.KICKSTARTING: ('kickstarting_loss',
                                 'kickstarting_coefficient'),
           Method.BEHAVIOURAL_CLONING: ('cloning_loss',
                                        'demonstration_fraction'),
           Method.EWC: ('ewc_penalty',)}
  added = tuple(c for m in config.methods for c in names[m])
  return added + ('td_loss',) if added else ()
