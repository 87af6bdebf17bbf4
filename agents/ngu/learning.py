"""Training NGU's embedding (inverse dynamics) and RND predictor from replay.

The learner calls `IntrinsicModelTrainer.step` on each replay batch next to the
R2D2 update, in the same compiled graph; actors fetch the trained variables and
compute rewards online.

Cost: the intrinsic models are trained on a fraction of each batch's sequences
(`intrinsic_batch_fraction`), not on all of them. Training f and the RND
predictor costs three torsos forward and two backward per observation, more
than the Q update's own work per observation: on the whole batch an NGU update
cost 2.3 R2D2 updates; on the default eighth of it, about 1.3 (see
benchmarks/learner_cost.py).
"""

import math
from typing import Dict, Mapping, Sequence

from acme.adders import reverb as adders
from acme.tf import savers as tf2_savers
from acme.tf import utils as tf2_utils
import reverb
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import networks as ngu_networks
from behavior_transfer.agents.r2d2 import learning


def intrinsic_sequences(batch_size: int, fraction: float) -> int:
  """How many of a batch's sequences train the intrinsic models."""
  if not 0. < fraction <= 1.:
    raise ValueError(f'intrinsic_batch_fraction must be in (0, 1], got '
                     f'{fraction}.')
  return max(1, min(batch_size, int(math.ceil(fraction * batch_size - 1e-9))))


class IntrinsicModelTrainer:
  """Adam on the inverse-dynamics loss of f and the RND regression loss."""

  def __init__(self, models: ngu_networks.IntrinsicModels,
               learning_rate: float):
    self._models = models
    # Sonnet's Adam (same update and state), one fused op per variable.
    self.optimizer = learning.FusedAdam(learning_rate)
    self.optimizer.create_slots(lambda: models.learned_variables)

  def losses(self, data: adders.Step) -> Dict[str, tf.Tensor]:
    """Losses on time-major [T, B] steps.

    Inverse dynamics predicts the executed action a_t from (s_t, s_{t+1}) for
    every pair inside one episode (s_{t+1} not the start of a new one). The
    executed action is `extras['executed_action']` when the adder stores it
    (BT), else the stored action.
    """
    images = data.observation.observation
    embeddings = snt.BatchApply(self._models.embedding)(images)
    logits = self._models.inverse_dynamics(embeddings[:-1], embeddings[1:])
    actions = data.extras.get('executed_action', data.action)
    actions = tf.cast(actions[:-1], tf.int32)
    same_episode = 1. - tf.cast(data.start_of_episode[1:], tf.float32)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=actions, logits=logits)
    inverse_dynamics = (tf.reduce_sum(cross_entropy * same_episode) /
                        tf.maximum(tf.reduce_sum(same_episode), 1.))
    rnd = tf.reduce_mean(snt.BatchApply(self._models.rnd.error)(images))
    return {'inverse_dynamics_loss': inverse_dynamics, 'rnd_loss': rnd}

  def step(self, data: adders.Step) -> Dict[str, tf.Tensor]:
    """One update of f, the inverse-dynamics head and g_hat (never g), after
    RND's observation statistics take in this batch's observations."""
    normalizer = self._models.rnd.normalizer
    if normalizer is not None:
      images = data.observation.observation
      normalizer.update(tf.reshape(images, [-1] + images.shape[2:].as_list()))
    variables = self._models.learned_variables
    with tf.GradientTape() as tape:
      losses = self.losses(data)
      total = losses['inverse_dynamics_loss'] + losses['rnd_loss']
    self.optimizer.apply(tape.gradient(total, variables), variables)
    return losses


class NGULearner(learning.R2D2Learner):
  """R2D2 on intrinsic rewards, plus training of f and the RND predictor on
  (a fraction of) the same batches; serves 'policy' and 'intrinsic' variables.

  `config.intrinsic_batch_fraction` of each batch's sequences trains the
  intrinsic models.
  """

  def __init__(self, network, target_network,
               config: ngu_config.NGUConfig,
               models: ngu_networks.IntrinsicModels, *args, **kwargs):
    super().__init__(network, target_network, config.r2d2, *args, **kwargs)
    self._models = models
    self._trainer = IntrinsicModelTrainer(models,
                                          config.intrinsic_learning_rate)
    self._intrinsic_batch_fraction = config.intrinsic_batch_fraction
    self._intrinsic_sequences = intrinsic_sequences(
        config.r2d2.batch_size, config.intrinsic_batch_fraction)

  def update(self, sample: reverb.ReplaySample) -> Dict[str, tf.Tensor]:
    metrics = super().update(sample)
    data = sample.data
    if self._intrinsic_batch_fraction < 1.:
      data = tree.map_structure(lambda x: x[:self._intrinsic_sequences], data)
    metrics.update(self._trainer.step(tf2_utils.batch_to_sequence(data)))
    return metrics

  def variables_by_name(self) -> Dict[str, Sequence[tf.Variable]]:
    return {**super().variables_by_name(),
            'intrinsic': self._models.variables}

  @property
  def state(self) -> Mapping[str, tf2_savers.Checkpointable]:
    return {**super().state, 'intrinsic_models': self._models,
            'intrinsic_optimizer': self._trainer.optimizer}
