"""The extra-action learner: R2D2 over A+ where a+ also teaches Q(s, a').

Choosing a+ leads to the same outcome as choosing the primitive action a' that
pi_p executed, so the n-step return of such a step is the target of both
Q(s, a+) and Q(s, a'). Every other step fits Q(s, a) as in R2D2, and the
bootstrap is double Q over all of A+. With K pre-trained policies A+ holds
a+_1..a+_K (the last K outputs): a step that chose a+_k fits Q(s, a+_k) and
Q(s, a') of the action pi_k executed, and no other a+.
"""

import tensorflow as tf
import trfl

from behavior_transfer.agents.r2d2 import learning


class ExtraActionLearner(learning.R2D2Learner):
  """R2D2Learner whose a+ steps fit Q(s, a+) and Q(s, a') to one target."""

  def __init__(self, *args, num_extra_actions: int = 1, **kwargs):
    """`num_extra_actions` is K, the a+_k at the end of Q's outputs; the
    other arguments are R2D2Learner's."""
    super().__init__(*args, **kwargs)
    self._num_extra_actions = num_extra_actions

  def td_errors(self, q_values, target_q_values, data) -> learning.TDErrors:
    td = super().td_errors(q_values, target_q_values, data)
    num_actions = q_values.shape[-1] - self._num_extra_actions
    chose_extra = tf.cast(data.action[:-1], tf.int32) >= num_actions
    executed = tf.cast(data.extras['executed_action'][:-1], tf.int32)
    q_executed = trfl.batched_index(q_values[:-1], executed)
    target = tf.stop_gradient(learning.value_rescaling(td.targets))
    executed_errors = tf.where(chose_extra, q_executed - target,
                               tf.zeros_like(q_executed))
    return learning.TDErrors(
        errors=tf.stack([td.errors, executed_errors], axis=-1),
        targets=td.targets)
