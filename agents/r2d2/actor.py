"""R2D2 acting: epsilon-greedy recurrent actors that fetch learner weights.

One actor acts in K environments (`envs_per_actor`) with one batched
Q-network call per step. Environment i has its own epsilon (from the ladder
over all actors x environments), random stream, LSTM state and adder, so
replay holds what K single-environment actors would write.
"""

from typing import Optional, Sequence

import acme
from acme import adders as adders_lib
from acme.tf import variable_utils
import numpy as np
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer.acting import batched_loop
from behavior_transfer.acting import fixed_shape_function
from behavior_transfer.networks import q_network


def make_variable_client(
    network: snt.Module, variable_source: Optional[acme.VariableSource],
    update_period: int) -> Optional[variable_utils.VariableClient]:
  """Keeps `network` in sync with the learner's; fetches once before acting.

  `update_period` counts calls to `update`, which batched actors make once
  per batched step.
  """
  if variable_source is None:
    return None
  client = variable_utils.VariableClient(
      variable_source, {'policy': network.variables},
      update_period=max(1, update_period))
  client.update_and_wait()
  return client


def numpy_state(state):
  """A recurrent state as writable numpy arrays."""
  return tree.map_structure(lambda x: np.array(x), state)


class RecurrentStates:
  """Per-environment recurrent states of a batched network, as numpy rows."""

  def __init__(self, initial_state, num_environments: int):
    """`initial_state` is the state at an episode start, for a batch of one."""
    self._initial_row = numpy_state(initial_state)
    self.current = tree.map_structure(
        lambda x: np.repeat(x, num_environments, axis=0), self._initial_row)
    self.before_step = self.current  # What each step started from.

  def reset(self, index: int) -> None:
    batched_loop.set_row(self.current, index, self._initial_row)

  def advance(self, next_state) -> None:
    self.before_step = self.current
    self.current = numpy_state(next_state)

  def stored(self, index: int):
    """Environment `index`'s state before its last step (what replay keeps)."""
    return batched_loop.take_row(self.before_step, index)


class EpsilonGreedyActor(batched_loop.BatchedActor):
  """Epsilon-greedy over a recurrent Q-network in K environments at once."""

  def __init__(self,
               network: q_network.RecurrentQNetwork,
               epsilons: Sequence[float],
               adders: Optional[Sequence[adders_lib.Adder]] = None,
               variable_client: Optional[variable_utils.VariableClient] = None,
               seeds: Optional[Sequence[int]] = None):
    """`epsilons[i]`, `adders[i]` and `seeds[i]` belong to environment i."""
    epsilons = batched_loop.check_rates(epsilons, 'epsilons')
    count = len(epsilons)
    if adders is not None and len(adders) != count:
      raise ValueError(f'{count} environments need {count} adders, got '
                       f'{len(adders)}.')
    self._network = network
    self._epsilons = epsilons
    self._adders = adders
    self._variable_client = variable_client
    self._rngs = [np.random.RandomState(seed)
                  for seed in (seeds if seeds is not None else range(count))]
    self._states = RecurrentStates(network.initial_state(1), count)
    self._greedy = fixed_shape_function.FixedShapeFunction(self._greedy_in_tf)

  @property
  def num_environments(self) -> int:
    return len(self._epsilons)

  def _greedy_in_tf(self, observations, state):
    q_values, state = self._network(observations, state)
    return tf.argmax(q_values, axis=-1, output_type=tf.int32), state

  def observe_first(self, index, timestep):
    self._states.reset(index)
    if self._adders:
      self._adders[index].add_first(timestep)

  def select_actions(self, observations) -> np.ndarray:
    greedy, next_state = self._greedy(batched_loop.stack(observations),
                                      self._states.current)
    self._states.advance(next_state)
    actions = np.array(greedy)
    for index, rng in enumerate(self._rngs):
      if rng.rand() < self._epsilons[index]:
        actions[index] = rng.randint(self._network.num_outputs)
    return actions

  def observe(self, index, action, next_timestep):
    if self._adders:
      self._adders[index].add(
          np.int32(action), next_timestep,
          extras={'core_state': self._states.stored(index)})

  def update(self, wait: bool = False):
    if self._variable_client:
      self._variable_client.update(wait)


def make_actor(network: q_network.RecurrentQNetwork,
               epsilon: float,
               adder: Optional[adders_lib.Adder] = None,
               variable_source: Optional[acme.VariableSource] = None,
               variable_update_period: int = 400,
               seed: int = 0) -> batched_loop.SingleEnvironmentActor:
  """A one-environment actor for Acme's `EnvironmentLoop`; stores its LSTM
  state for the learner."""
  return batched_loop.SingleEnvironmentActor(EpsilonGreedyActor(
      network, [epsilon], [adder] if adder else None,
      make_variable_client(network, variable_source, variable_update_period),
      [seed]))
