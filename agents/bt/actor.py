"""The Behavior Transfer actor: Algorithm 1 of the paper, step by step.

On every step, with Q the downstream agent's values over its choices and pi_p
the frozen pre-trained policy:

  1. Both Q and pi_p see the observation (pi_p on every step, in and out of
     flights, so its recurrent state follows the episode).
  2. If no flight is running, with probability epsilon_levy a flight starts,
     of length n ~ Zeta(mu), P(n) proportional to n^-mu.
  3. In a flight: n <- n - 1 and pi_p's action a ~ pi_p(s) is executed
     (epsilon-z-greedy instead repeats one uniformly random primitive action).
  4. Otherwise epsilon-greedy over A+ = A + {a+}: a ~ Uniform(A+) with
     probability epsilon, else argmax_a Q(s, a); if a == a+, the executed action
     is a' ~ pi_p(s).

The adder records the chosen action (in A+), the executed primitive action,
whether the step was in a flight, and the LSTM state the learner starts from.
Flight steps store pi_p's primitive action as an ordinary off-policy action.
For kickstarting (agents/retention) it also records pi_p's action
distribution on every step, whatever explores.

The actor runs Algorithm 1 in K environments at once: Q (and a TF-backed pi_p)
see all K observations in one batched call, and each environment keeps its own
flight, epsilon, epsilon_levy, random stream, recurrent states and adder.
"""

from typing import Any, Dict, Optional, Sequence

import acme
from acme import adders as adders_lib
from acme.tf import utils as tf2_utils
from acme.tf import variable_utils
import numpy as np
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer.acting import batched_loop
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.r2d2 import actor as r2d2_actor
from behavior_transfer.policies import pretrained as pretrained_lib

Exploration = bt_config.Exploration
_COUNTS = ('steps', 'greedy_is_extra_action', 'in_flight',
           'executed_extra_action')


def sample_flight_length(rng: np.random.RandomState, exponent: float) -> int:
  """n ~ Zeta(exponent): P(n) = n^-exponent / zeta(exponent), n >= 1."""
  return int(rng.zipf(exponent))


def _num_outputs(network: snt.RNNCore, observation_spec: Optional[Any]
                 ) -> int:
  """How many values `network` outputs per observation."""
  if hasattr(network, 'num_outputs'):
    return network.num_outputs
  if observation_spec is None:
    raise ValueError(
        f'{type(network).__name__} has no num_outputs attribute: pass '
        'observation_spec so that the actor can check its output size.')
  values_spec, _ = tf2_utils.create_variables(network, [observation_spec])
  shapes = [spec.shape for spec in tree.flatten(values_spec)]
  if len(shapes) != 1 or len(shapes[0]) != 1:
    raise ValueError('The network must output one vector of values per '
                     f'observation; its outputs have shapes {shapes}.')
  return shapes[0][0]


class BehaviorTransferActor(batched_loop.BatchedActor):
  """Explores with flights of pi_p and the extra action a+ (Algorithm 1)."""

  def __init__(self,
               network: snt.RNNCore,
               num_actions: int,
               exploration: Exploration,
               epsilons: Sequence[float],
               levy_epsilons: Sequence[float],
               pretrained: Optional[pretrained_lib.PretrainedPolicy] = None,
               adders: Optional[Sequence[adders_lib.Adder]] = None,
               variable_client: Optional[variable_utils.VariableClient] = None,
               flight_length_exponent: float = 2.0,
               seeds: Optional[Sequence[int]] = None,
               observation_spec: Optional[Any] = None,
               records_pretrained_policy: bool = False,
               pretrained_temperature: float = 0.):
    """Environment i explores with `epsilons[i]` and `levy_epsilons[i]`,
    writes to `adders[i]` and draws from a stream seeded by `seeds[i]`.

    `network` is any recurrent Sonnet core, `network(observations, state)`
    -> (values over the choices, state), with |A| outputs, |A| + 1 (the last
    is a+) when the exploration uses the extra action. Its output size is
    read from `network.num_outputs`, or, for a core without that attribute,
    from one call on `observation_spec` (which creates its variables).

    With `records_pretrained_policy`, pi_p sees every step whatever explores
    and the adders store its action distribution as extras
    'pretrained_policy' (`pretrained.tf_act` at `pretrained_temperature`).
    """
    exploration = Exploration(exploration)
    if exploration.uses_pretrained_policy and pretrained is None:
      raise ValueError(f'Exploration {exploration.value!r} needs a pre-trained '
                       'policy.')
    if records_pretrained_policy and pretrained is None:
      raise ValueError('Recording pi_p\'s action distribution (kickstarting) '
                       'needs a pre-trained policy.')
    epsilons = batched_loop.check_rates(epsilons, 'epsilons')
    levy_epsilons = batched_loop.check_rates(levy_epsilons, 'levy_epsilons')
    count = len(epsilons)
    if len(levy_epsilons) != count or (adders is not None and
                                       len(adders) != count):
      raise ValueError(f'{count} environments need {count} levy epsilons and '
                       'adders.')
    self._network = network
    self._num_actions = num_actions
    self._extra_action = num_actions  # a+ is the last output of Q.
    self._num_choices = num_actions + int(exploration.uses_extra_action)
    outputs = _num_outputs(network, observation_spec)
    if outputs != self._num_choices:
      raise ValueError(
          f'Exploration {exploration.value!r} over {num_actions} actions '
          f'needs a network with {self._num_choices} outputs (|A|'
          f'{" + 1 for a+" if exploration.uses_extra_action else ""}), got '
          f'{outputs}.')
    self._exploration = exploration
    self._epsilons = np.asarray(epsilons, np.float64)
    self._levy_epsilons = (np.asarray(levy_epsilons, np.float64)
                           if exploration.uses_flights else np.zeros(count))
    self._records = records_pretrained_policy
    self._pretrained_temperature = pretrained_temperature
    self._pretrained = (pretrained if exploration.uses_pretrained_policy or
                        records_pretrained_policy else None)
    self._adders = adders
    self._variable_client = variable_client
    self._flight_length_exponent = flight_length_exponent
    self._rngs = [np.random.RandomState(seed)
                  for seed in (seeds if seeds is not None else range(count))]
    self._pretrained_in_tf = (self._pretrained is not None and
                              self._pretrained.tf_step is not None)
    self._q_states = r2d2_actor.RecurrentStates(network.initial_state(1),
                                                 count)
    if self._pretrained_in_tf:
      self._pi_states = r2d2_actor.RecurrentStates(
          self._pretrained.initial_state(), count)
    elif self._pretrained is not None:  # Plain Python: one state per env.
      self._python_pi_states = [self._pretrained.initial_state()] * count
    self._evaluate = tf.function(self._evaluate_in_tf)
    self._flight_steps_left = np.zeros(count, np.int64)
    self._flight_action = np.zeros(count, np.int64)
    self._chosen = np.zeros(count, np.int32)
    self._executed = np.zeros(count, np.int32)
    self._in_flight = np.zeros(count, np.bool_)
    self._pi_distributions = np.zeros(
        (count, pretrained.num_actions if pretrained else 0), np.float32)
    self._counts = np.zeros((count, len(_COUNTS)), np.int64)

  @property
  def num_environments(self) -> int:
    return len(self._epsilons)

  def observe_first(self, index, timestep):
    """A new episode in environment `index`: fresh states, no flight."""
    self._q_states.reset(index)
    if self._pretrained_in_tf:
      self._pi_states.reset(index)
    elif self._pretrained is not None:
      self._python_pi_states[index] = self._pretrained.initial_state()
    self._flight_steps_left[index] = 0
    self._counts[index] = 0
    if self._adders:
      self._adders[index].add_first(timestep)

  def _evaluate_in_tf(self, observations, q_state, pi_state):
    """Q's greedy choices, and pi_p's actions and distributions when pi_p is
    TF-backed, in one TF call for all environments."""
    q_values, q_state = self._network(observations, q_state)
    greedy = tf.argmax(q_values, axis=-1, output_type=tf.int32)
    if self._pretrained_in_tf:
      pi_actions, pi_distributions, pi_state = pretrained_lib.tf_act(
          self._pretrained, observations, pi_state,
          self._pretrained_temperature if self._records else 0.)
    else:
      pi_actions = tf.zeros_like(greedy)
      pi_distributions = tf.zeros((tf.shape(greedy)[0], 0))
    return greedy, q_state, pi_actions, pi_distributions, pi_state

  def _policy_step(self, observations):
    """1. Q and pi_p both see every observation (pi_p also in flights)."""
    pi_state = self._pi_states.current if self._pretrained_in_tf else ()
    greedy, q_state, pi_actions, pi_distributions, pi_state = self._evaluate(
        batched_loop.stack(observations), self._q_states.current, pi_state)
    self._q_states.advance(q_state)
    if self._pretrained_in_tf:
      self._pi_states.advance(pi_state)
      self._pi_distributions[:] = pi_distributions.numpy()
    pi_actions = np.array(pi_actions)
    if self._pretrained is not None and not self._pretrained_in_tf:
      for index, observation in enumerate(observations):
        pi_actions[index], self._python_pi_states[index] = (
            self._pretrained.step(observation, self._python_pi_states[index]))
      # A plain-Python pi_p is deterministic as far as the actor knows.
      self._pi_distributions[:] = np.eye(
          self._pretrained.num_actions, dtype=np.float32)[pi_actions]
    return greedy.numpy(), pi_actions

  def select_actions(self, observations) -> np.ndarray:
    greedy, pi_actions = self._policy_step(observations)
    for index, rng in enumerate(self._rngs):
      # 2. Maybe start a flight.
      if (self._flight_steps_left[index] == 0 and
          rng.rand() < self._levy_epsilons[index]):
        self._flight_steps_left[index] = sample_flight_length(
            rng, self._flight_length_exponent)
        self._flight_action[index] = rng.randint(self._num_actions)

      in_flight = self._flight_steps_left[index] > 0
      if in_flight:
        # 3. In a flight pi_p acts (epsilon-z-greedy: one repeated random
        # action).
        self._flight_steps_left[index] -= 1
        executed = (self._flight_action[index]
                    if self._exploration == Exploration.EZ_GREEDY
                    else pi_actions[index])
        chosen = executed
      else:
        # 4. Epsilon-greedy over A+; a+ executes pi_p's action.
        if rng.rand() < self._epsilons[index]:
          chosen = rng.randint(self._num_choices)
        else:
          chosen = greedy[index]
        executed = pi_actions[index] if chosen == self._extra_action else chosen
      self._chosen[index] = chosen
      self._executed[index] = executed
      self._in_flight[index] = in_flight
    self._count(greedy)
    # The dtype of the environment's action spec.
    return self._executed.copy()

  def _count(self, greedy: np.ndarray) -> None:
    counts = self._counts
    counts[:, 0] += 1
    counts[:, 2] += self._in_flight
    if self._exploration.uses_extra_action:
      counts[:, 1] += greedy == self._extra_action
      counts[:, 3] += ~self._in_flight & (self._chosen == self._extra_action)

  def observe(self, index, action, next_timestep):
    del action  # The executed action; replay stores the chosen one too.
    if self._adders:
      extras = {'executed_action': self._executed[index],
                'in_flight': self._in_flight[index],
                'core_state': self._q_states.stored(index)}
      if self._records:
        extras['pretrained_policy'] = self._pi_distributions[index].copy()
      self._adders[index].add(self._chosen[index], next_timestep,
                              extras=extras)

  def update(self, wait: bool = False):
    if self._variable_client:
      self._variable_client.update(wait)

  def episode_metrics(self, index: int) -> Dict[str, float]:
    """Environment `index`'s fraction of greedy a+ choices, flight steps and
    a+ uses in its current episode."""
    counts = dict(zip(_COUNTS, self._counts[index]))
    steps = max(counts['steps'], 1)
    return {
        'greedy_extra_action_fraction':
            counts['greedy_is_extra_action'] / steps,
        'flight_fraction': counts['in_flight'] / steps,
        'extra_action_fraction': counts['executed_extra_action'] / steps,
    }


def make_actor(network: snt.RNNCore,
               num_actions: int,
               epsilon: float,
               levy_epsilon: float,
               pretrained: Optional[pretrained_lib.PretrainedPolicy] = None,
               exploration: Exploration = Exploration.BT,
               adder: Optional[adders_lib.Adder] = None,
               variable_source: Optional[acme.VariableSource] = None,
               variable_update_period: int = 400,
               flight_length_exponent: float = 2.0,
               seed: int = 0,
               observation_spec: Optional[Any] = None,
               records_pretrained_policy: bool = False,
               pretrained_temperature: float = 0.
               ) -> batched_loop.SingleEnvironmentActor:
  """A one-environment BT actor for Acme's `EnvironmentLoop`, as
  `r2d2.make_actor` is for R2D2; `batched_loop.ActorMetricsObserver(actor)`
  adds its per-episode metrics to the loop's results. The arguments are
  `BehaviorTransferActor`'s for one environment."""
  return batched_loop.SingleEnvironmentActor(BehaviorTransferActor(
      network, num_actions, exploration, [epsilon], [levy_epsilon],
      pretrained, [adder] if adder else None,
      r2d2_actor.make_variable_client(network, variable_source,
                                      variable_update_period),
      flight_length_exponent, [seed], observation_spec,
      records_pretrained_policy, pretrained_temperature))
