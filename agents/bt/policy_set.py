"""The pre-trained policies one BT actor steps: K pi_p in E environments.

Every pi_p sees every observation of every environment (so each one's
recurrent state follows the episode, in flights or not). TF-backed policies
step inside the actor's one TF call per step (`tf_act`); plain-Python ones
step one environment at a time (`python_act`).
"""

from typing import Any, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from behavior_transfer.agents.r2d2 import actor as r2d2_actor
from behavior_transfer.policies import pretrained as pretrained_lib


class PolicySet:
  """K pre-trained policies and their per-environment recurrent states."""

  def __init__(self, policies: Sequence[pretrained_lib.PretrainedPolicy],
               num_environments: int):
    if len({p.num_actions for p in policies}) > 1:
      raise ValueError('The pre-trained policies act over different numbers '
                       f'of actions: {[p.num_actions for p in policies]}.')
    self.policies = list(policies)
    self._in_tf = [p.tf_step is not None for p in self.policies]
    self._tf_states = [
        r2d2_actor.RecurrentStates(p.initial_state(), num_environments)
        if in_tf else None for p, in_tf in zip(self.policies, self._in_tf)]
    self._python_states = [
        None if in_tf else [p.initial_state()] * num_environments
        for p, in_tf in zip(self.policies, self._in_tf)]

  def __len__(self) -> int:
    return len(self.policies)

  @property
  def num_actions(self) -> int:
    return self.policies[0].num_actions

  def python_states(self, policy: int) -> List[Any]:
    """Per-environment states of plain-Python policy `policy`."""
    return self._python_states[policy]

  def reset(self, index: int) -> None:
    """Environment `index` starts an episode: every pi_p starts afresh."""
    for policy, tf_states, python_states in zip(
        self.policies, self._tf_states, self._python_states):
      if tf_states is not None:
        tf_states.reset(index)
      else:
        python_states[index] = policy.initial_state()

  def tf_states(self) -> Tuple[Any, ...]:
    """The TF-backed policies' current states (inputs of `tf_act`)."""
    return tuple(s.current for s in self._tf_states if s is not None)

  def tf_act(self, observations, states: Tuple[Any, ...],
             temperature: float) -> Tuple[tf.Tensor, tf.Tensor, Tuple]:
    """Inside TF: actions [K_tf, B] of the TF-backed policies, the action
    distributions [B, |A|] of the first policy when it is TF-backed (else
    zeros), and their next states."""
    actions, next_states = [], []
    distribution = None
    tf_policies = [p for p, in_tf in zip(self.policies, self._in_tf) if in_tf]
    for policy, state in zip(tf_policies, states):
      action, policy_distribution, state = pretrained_lib.tf_act(
          policy, observations, state,
          temperature if distribution is None and self._in_tf[0] else 0.)
      if distribution is None:
        distribution = policy_distribution
      actions.append(action)
      next_states.append(state)
    batch = tf.shape(tf.nest.flatten(observations)[0])[0]
    if not actions:
      return (tf.zeros([0, batch], tf.int32),
              tf.zeros([batch, self.num_actions]), ())
    if not self._in_tf[0]:
      distribution = tf.zeros([batch, self.num_actions])
    return tf.stack(actions), distribution, tuple(next_states)

  def advance(self, states: Tuple[Any, ...]) -> None:
    """Takes the next states `tf_act` returned."""
    tf_states = [s for s in self._tf_states if s is not None]
    for recurrent_states, state in zip(tf_states, states):
      recurrent_states.advance(state)

  def actions(self, observations: Sequence, tf_actions: np.ndarray
              ) -> np.ndarray:
    """Every policy's action [K, B]: the TF-backed ones' from `tf_actions`,
    the plain-Python ones stepped here."""
    actions = np.zeros((len(self.policies), len(observations)), np.int64)
    tf_rows = iter(tf_actions)
    for k, (policy, in_tf) in enumerate(zip(self.policies, self._in_tf)):
      if in_tf:
        actions[k] = next(tf_rows)
        continue
      states = self._python_states[k]
      for index, observation in enumerate(observations):
        actions[k, index], states[index] = policy.step(observation,
                                                       states[index])
    return actions

  @property
  def first_in_tf(self) -> bool:
    return self._in_tf[0]
