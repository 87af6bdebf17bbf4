"""Training NGU's embedding (inverse dynamics) and RND predictor from replay.

The learner calls `IntrinsicModelTrainer.step` on each replay batch next to the
R2D2 update; actors fetch the trained variables and compute rewards online.
"""

from typing import Dict, Mapping, Sequence

from acme.adders import reverb as adders
from acme.tf import savers as tf2_savers
from acme.tf import utils as tf2_utils
import reverb
import sonnet as snt
import tensorflow as tf

from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import networks as ngu_networks
from behavior_transfer.agents.r2d2 import learning


class IntrinsicModelTrainer:
  """Adam on the inverse-dynamics loss of f and the RND regression loss."""

  def __init__(self, models: ngu_networks.IntrinsicModels,
               learning_rate: float):
    self._models = models
    self.optimizer = snt.optimizers.Adam(learning_rate)

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
    """One update of f, the inverse-dynamics head and g_hat (never g)."""
    variables = self._models.learned_variables
    with tf.GradientTape() as tape:
      losses = self.losses(data)
      total = losses['inverse_dynamics_loss'] + losses['rnd_loss']
    self.optimizer.apply(tape.gradient(total, variables), variables)
    return losses


class NGULearner(learning.R2D2Learner):
  """R2D2 on intrinsic rewards, plus training of f and the RND predictor on
  the same batches; serves 'policy' and 'intrinsic' variables."""

  def __init__(self, network, target_network,
               config: ngu_config.NGUConfig,
               models: ngu_networks.IntrinsicModels, *args, **kwargs):
    super().__init__(network, target_network, config.r2d2, *args, **kwargs)
    self._models = models
    self._trainer = IntrinsicModelTrainer(models,
                                          config.intrinsic_learning_rate)

  def update(self, sample: reverb.ReplaySample) -> Dict[str, tf.Tensor]:
    metrics = super().update(sample)
    metrics.update(
        self._trainer.step(tf2_utils.batch_to_sequence(sample.data)))
    return metrics

  def variables_by_name(self) -> Dict[str, Sequence[tf.Variable]]:
    return {**super().variables_by_name(),
            'intrinsic': self._models.variables}

  @property
  def state(self) -> Mapping[str, tf2_savers.Checkpointable]:
    return {**super().state, 'intrinsic_models': self._models,
            'intrinsic_optimizer': self._trainer.optimizer}
