"""pi_p's own episodes as demonstrations, for behavioural cloning and EWC.

A demonstrator node runs pi_p alone on the dynamics (reward-free, as in
pre-training: the task's reward is stored but nothing learns from it) and
writes its sequences to a table of their own, as R2D3 keeps human
demonstrations apart from the agent's replay. The sequences hold the same
fields as the agent's (so the learner can mix them into its batches): the
action is pi_p's, `pretrained_policy` its action distribution, and the
Q-network's stored LSTM state is the initial one (the demonstrator never runs
the Q-network; burn-in warms the state up).
"""

from typing import Any, List, Optional, Sequence

from acme import adders as adders_lib
import numpy as np
import reverb
import tensorflow as tf

from behavior_transfer.acting import batched_loop
from behavior_transfer.acting import whole_sequence_adder
from behavior_transfer.agents.bt import policy_set
from behavior_transfer.agents.r2d2 import actor as r2d2_actor
from behavior_transfer.agents.retention import config as retention_config
from behavior_transfer.policies import pretrained as pretrained_lib

TABLE = 'demonstrations'


def make_table(config: retention_config.RetentionConfig, batch_size: int,
               signature: Any) -> reverb.Table:
  """Uniformly sampled, first in first out; sampling waits for a batch."""
  return reverb.Table(
      name=TABLE, sampler=reverb.selectors.Uniform(),
      remover=reverb.selectors.Fifo(),
      max_size=config.max_demonstration_size,
      rate_limiter=reverb.rate_limiters.MinSize(
          min(batch_size, config.max_demonstration_size)),
      signature=signature)


def make_adders(client: reverb.Client, sequence_length: int, period: int,
                count: int, share_writer: bool) -> List[adders_lib.Adder]:
  """The demonstrator's adders, one per environment, as an actor's."""
  return whole_sequence_adder.make_sequence_adders(
      client, count, sequence_length, period, priority_fns={TABLE: None},
      share_writer=share_writer)


class DemonstrationActor(batched_loop.BatchedActor):
  """pi_p acting alone in K environments, writing demonstrations."""

  def __init__(self, pretrained: pretrained_lib.PretrainedPolicy,
               core_state: Any, temperature: float,
               adders: Optional[Sequence[adders_lib.Adder]],
               num_environments: int):
    """`core_state` is the downstream Q-network's initial state (a batch of
    one), stored with every step; `temperature` is pi_p's
    (`pretrained.tf_act`)."""
    self._policy = policy_set.PolicySet([pretrained], num_environments)
    self._core_state = r2d2_actor.RecurrentStates(core_state, 1)
    self._temperature = temperature
    self._adders = adders
    self._act = tf.function(self._act_in_tf)
    self._actions = np.zeros(num_environments, np.int32)
    self._distributions = np.zeros(
        (num_environments, pretrained.num_actions), np.float32)

  @property
  def num_environments(self) -> int:
    return len(self._actions)

  def _act_in_tf(self, observations, states):
    return self._policy.tf_act(observations, states, self._temperature)

  def observe_first(self, index, timestep):
    self._policy.reset(index)
    if self._adders:
      self._adders[index].add_first(timestep)

  def select_actions(self, observations) -> np.ndarray:
    tf_actions, distributions, states = self._act(
        batched_loop.stack(observations), self._policy.tf_states())
    self._policy.advance(states)
    self._actions[:] = self._policy.actions(observations,
                                            tf_actions.numpy())[0]
    # A plain-Python pi_p is deterministic as far as we know: one-hot.
    self._distributions[:] = (
        distributions.numpy() if self._policy.first_in_tf else
        np.eye(self._policy.num_actions, dtype=np.float32)[self._actions])
    return self._actions.copy()

  def observe(self, index, action, next_timestep):
    del action
    if self._adders:
      self._adders[index].add(
          self._actions[index], next_timestep,
          extras={'executed_action': self._actions[index],
                  'in_flight': np.True_,
                  'core_state': self._core_state.stored(0),
                  'pretrained_policy': self._distributions[index].copy()})
