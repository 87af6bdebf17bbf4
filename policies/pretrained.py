"""The pre-trained policy pi_p as a frozen black box, and ways to obtain one.

pi_p maps an observation (and its own recurrent state) to a primitive action.
It never learns during transfer, and its architecture need not match the
downstream Q-network's. Sources:

* `ExportedPolicy`: a self-contained TF SavedModel written by `export_policy`,
  loadable without this project's code (`tf.saved_model.load`).
* `from_checkpoint`: a learner checkpoint of this project plus a network.
* `GreedyNetworkPolicy`: any recurrent Q-network in memory.
* `CallablePolicy` / `RandomPolicy`: any Python callable, e.g. a scripted policy.
* `EpsilonPolicy`: any of these with random actions mixed in (diagnostics).

TF-backed policies also expose `tf_step` so the BT actor can run pi_p and the
Q-network in one TF call per step, and those backed by a Q-network expose
`tf_values_step`, its values over A, from which knowledge retention takes
pi_p's action distribution (`tf_act`).
"""

import abc
import json
import os
from typing import Any, Callable, Optional, Tuple

from acme import specs
from acme.tf import utils as tf2_utils
import numpy as np
import tensorflow as tf

from behavior_transfer.networks import q_network
from behavior_transfer.networks import weight_transfer

State = Any
_METADATA = 'pretrained_policy.json'


class PretrainedPolicy(abc.ABC):
  """pi_p: observation and state in, primitive action and state out."""

  @property
  @abc.abstractmethod
  def num_actions(self) -> int:
    """Size of pi_p's primitive action set."""

  def initial_state(self) -> State:
    """pi_p's recurrent state at the start of an episode."""
    return ()

  @abc.abstractmethod
  def step(self, observation: Any, state: State) -> Tuple[int, State]:
    """pi_p's action on one (unbatched) observation, and its next state."""

  # Set by TF-backed policies: batched (observation, state) -> (action, state).
  tf_step: Optional[Callable[..., Tuple[tf.Tensor, State]]] = None
  # Set by policies greedy in a Q-network: batched (observation, state) ->
  # (values over the |A| actions, state); the action is their argmax.
  tf_values_step: Optional[Callable[..., Tuple[tf.Tensor, State]]] = None


def tf_act(policy: PretrainedPolicy, observation, state, temperature: float
           ) -> Tuple[tf.Tensor, tf.Tensor, State]:
  """pi_p's batched actions, action distributions [B, |A|] and next state.

  The distribution is softmax(values / temperature) for a pi_p with values
  (its action stays their argmax), and one-hot at the action for any other
  pi_p or a temperature of 0: a deterministic policy's own distribution.
  """
  if policy.tf_values_step is not None and temperature > 0:
    values, state = policy.tf_values_step(observation, state)
    actions = tf.argmax(values, axis=-1, output_type=tf.int32)
    return actions, tf.nn.softmax(values / temperature), state
  actions, state = policy.tf_step(observation, state)
  return actions, tf.one_hot(actions, policy.num_actions), state


def check_action_spec(policy: PretrainedPolicy,
                      environment_spec: specs.EnvironmentSpec) -> None:
  """Refuses a pi_p whose action space differs from the environment's."""
  actions = environment_spec.actions
  if policy.num_actions != actions.num_values:
    raise ValueError(
        f'The pre-trained policy acts over {policy.num_actions} actions but the '
        f'environment\'s action spec is {actions!r} ({actions.num_values} '
        'actions); pi_p and the downstream task must share one action space.')


class CallablePolicy(PretrainedPolicy):
  """Wraps `fn(observation) -> action` (stateless) as pi_p."""

  def __init__(self, fn: Callable[[Any], int], num_actions: int):
    self._fn = fn
    self._num_actions = num_actions

  @property
  def num_actions(self) -> int:
    return self._num_actions

  def step(self, observation, state):
    return int(self._fn(observation)), state


class RandomPolicy(CallablePolicy):
  """Uniformly random primitive actions: a pi_p that knows nothing."""

  def __init__(self, num_actions: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    super().__init__(lambda _: rng.randint(num_actions), num_actions)


class EpsilonPolicy(PretrainedPolicy):
  """`policy` with a uniformly random action instead of its own with
  probability `epsilon` at each step; its recurrent state still advances on
  every observation. Zero-shot diagnostics use it to tell a pi_p that loops
  (a few random actions break the loop) from one that has nowhere to go."""

  def __init__(self, policy: PretrainedPolicy, epsilon: float, seed: int = 0):
    if not 0 <= epsilon <= 1:
      raise ValueError(f'epsilon must be in [0, 1], got {epsilon}.')
    self._policy = policy
    self._epsilon = epsilon
    self._rng = np.random.RandomState(seed)

  @property
  def num_actions(self) -> int:
    return self._policy.num_actions

  def initial_state(self) -> State:
    return self._policy.initial_state()

  def step(self, observation, state):
    action, state = self._policy.step(observation, state)
    if self._rng.rand() < self._epsilon:
      action = self._rng.randint(self.num_actions)
    return int(action), state


class _TFPolicy(PretrainedPolicy):
  """Shared stepping for policies backed by batched TF functions."""

  def __init__(self, num_actions: int):
    self._num_actions = num_actions
    self._step = tf.function(self.tf_step)

  @property
  def num_actions(self) -> int:
    return self._num_actions

  def step(self, observation, state):
    action, state = self._step(tf2_utils.add_batch_dim(observation), state)
    return int(action[0]), state


class GreedyNetworkPolicy(_TFPolicy):
  """The greedy policy of a recurrent Q-network over its first |A| outputs."""

  def __init__(self, network: q_network.RecurrentQNetwork, num_actions: int):
    self._network = network
    super().__init__(num_actions)

  def initial_state(self):
    return self._network.initial_state(1)

  def tf_values_step(self, observation, state):
    q_values, state = self._network(observation, state)
    return q_values[..., :self._num_actions], state

  def tf_step(self, observation, state):
    values, state = self.tf_values_step(observation, state)
    return tf.argmax(values, axis=-1, output_type=tf.int32), state


def from_checkpoint(checkpoint_dir: str,
                    network: q_network.RecurrentQNetwork,
                    environment_spec: specs.EnvironmentSpec
                    ) -> GreedyNetworkPolicy:
  """pi_p from a learner checkpoint of this project (`checkpoints/learner`)."""
  weight_transfer.restore_network(network, checkpoint_dir, environment_spec)
  return GreedyNetworkPolicy(network, environment_spec.actions.num_values)


class _ExportModule(tf.Module):
  """What `export_policy` saves: initial state, one greedy step and the
  values it is greedy in."""

  def __init__(self, network, environment_spec: specs.EnvironmentSpec):
    super().__init__()
    self.network = network
    self.num_actions = tf.Variable(environment_spec.actions.num_values,
                                   trainable=False)
    observation_signature = tf.nest.map_structure(
        lambda s: tf.TensorSpec((None,) + tuple(s.shape), s.dtype),
        environment_spec.observations)
    state_signature = tf.nest.map_structure(
        lambda t: tf.TensorSpec((None,) + tuple(t.shape[1:]), t.dtype),
        network.initial_state(1))
    policy = GreedyNetworkPolicy(network, environment_spec.actions.num_values)
    signature = [observation_signature, state_signature]
    self.step = tf.function(policy.tf_step, input_signature=signature)
    self.values = tf.function(policy.tf_values_step,
                              input_signature=signature)
    self.initial_state = tf.function(
        lambda: network.initial_state(1), input_signature=[])


def export_policy(network: q_network.RecurrentQNetwork,
                  environment_spec: specs.EnvironmentSpec, path: str) -> str:
  """Writes the network's greedy policy as a self-contained SavedModel."""
  tf2_utils.create_variables(network, [environment_spec.observations])
  module = _ExportModule(network, environment_spec)
  tf.saved_model.save(module, path)
  with open(os.path.join(path, _METADATA), 'w') as f:
    json.dump({'num_actions': environment_spec.actions.num_values,
               'observation_spec': repr(environment_spec.observations)}, f)
  return path


class ExportedPolicy(_TFPolicy):
  """pi_p loaded from a directory written by `export_policy`."""

  def __init__(self, path: str):
    if not os.path.isdir(path):
      raise FileNotFoundError(f'No exported policy directory at {path!r}.')
    try:
      self._module = tf.saved_model.load(path)
    except (OSError, ValueError, tf.errors.OpError) as e:
      raise ValueError(f'Cannot load the exported policy in {path}: {e}') from e
    super().__init__(int(self._module.num_actions.numpy()))
    if not hasattr(self._module, 'values'):  # Exported before values were.
      self.tf_values_step = None

  def initial_state(self):
    return self._module.initial_state()

  def tf_values_step(self, observation, state):
    return self._module.values(observation, state)

  def tf_step(self, observation, state):
    return self._module.step(observation, state)
