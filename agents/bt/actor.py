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

Beyond the paper (`HandoverConfig`, handover.py; its defaults are the steps
above): with K pi_p, A+ holds one a+_k per policy and a flight runs one
policy, chosen uniformly or by softmax over Q(s, a+_k); flight lengths may be
geometric; a flight may end early once Q prefers a primitive action to its
a+_k by a margin (value-ended flights); and a guide pi_p may fly the first h
steps of every episode (episode-start guidance, h on JSRL's curriculum).

The actor runs Algorithm 1 in K environments at once: Q (and a TF-backed pi_p)
see all K observations in one batched call, and each environment keeps its own
flight, epsilon, epsilon_levy, random stream, recurrent states and adder.
"""

from typing import Any, Dict, Optional, Sequence, Union

import acme
from acme import adders as adders_lib
from acme.tf import utils as tf2_utils
from acme.tf import variable_utils
import numpy as np
import sonnet as snt
import tensorflow as tf
import tree

from behavior_transfer.acting import batched_loop
from behavior_transfer.acting import fixed_shape_function
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.bt import handover
from behavior_transfer.agents.bt import policy_set
from behavior_transfer.agents.r2d2 import actor as r2d2_actor
from behavior_transfer.policies import pretrained as pretrained_lib

Exploration = bt_config.Exploration
Policies = Union[pretrained_lib.PretrainedPolicy,
                 Sequence[pretrained_lib.PretrainedPolicy]]
_COUNTS = ('steps', 'greedy_is_extra_action', 'in_flight',
           'executed_extra_action', 'guided')
# Per-step counts kept per policy when there are several.
_POLICY_COUNTS = ('greedy_is_extra_action', 'in_flight',
                  'executed_extra_action')
sample_flight_length = handover.sample_flight_length


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


def as_policies(pretrained: Optional[Policies]
                ) -> Sequence[pretrained_lib.PretrainedPolicy]:
  """One pi_p or several as a list (empty for None)."""
  if pretrained is None:
    return []
  if isinstance(pretrained, pretrained_lib.PretrainedPolicy):
    return [pretrained]
  return list(pretrained)


class BehaviorTransferActor(batched_loop.BatchedActor):
  """Explores with flights of pi_p and the extra action a+ (Algorithm 1)."""

  def __init__(self,
               network: snt.RNNCore,
               num_actions: int,
               exploration: Exploration,
               epsilons: Sequence[float],
               levy_epsilons: Sequence[float],
               pretrained: Optional[Policies] = None,
               adders: Optional[Sequence[adders_lib.Adder]] = None,
               variable_client: Optional[variable_utils.VariableClient] = None,
               flight_length_exponent: float = 2.0,
               seeds: Optional[Sequence[int]] = None,
               observation_spec: Optional[Any] = None,
               records_pretrained_policy: bool = False,
               pretrained_temperature: float = 0.,
               handover_config: Optional[bt_config.HandoverConfig] = None):
    """Environment i explores with `epsilons[i]` and `levy_epsilons[i]`,
    writes to `adders[i]` and draws from a stream seeded by `seeds[i]`.

    `pretrained` is pi_p, or a sequence of K of them. `network` is any
    recurrent Sonnet core, `network(observations, state)` -> (values over the
    choices, state), with |A| outputs, |A| + K (the last K are a+_1..a+_K)
    when the exploration uses the extra action. Its output size is read from
    `network.num_outputs`, or, for a core without that attribute, from one
    call on `observation_spec` (which creates its variables).

    With `records_pretrained_policy`, pi_p (the first, with several) sees
    every step whatever explores and the adders store its action
    distribution as extras 'pretrained_policy' (`pretrained.tf_act` at
    `pretrained_temperature`). `handover_config` sets the hand-overs beyond
    the paper (default: none).
    """
    exploration = Exploration(exploration)
    policies = as_policies(pretrained)
    if exploration.uses_pretrained_policy and not policies:
      raise ValueError(f'Exploration {exploration.value!r} needs a pre-trained '
                       'policy.')
    if records_pretrained_policy and not policies:
      raise ValueError('Recording pi_p\'s action distribution (kickstarting) '
                       'needs a pre-trained policy.')
    epsilons = batched_loop.check_rates(epsilons, 'epsilons')
    levy_epsilons = batched_loop.check_rates(levy_epsilons, 'levy_epsilons')
    count = len(epsilons)
    if len(levy_epsilons) != count or (adders is not None and
                                       len(adders) != count):
      raise ValueError(f'{count} environments need {count} levy epsilons and '
                       'adders.')
    self._handover = handover_config or bt_config.HandoverConfig()
    uses_policies = exploration.uses_pretrained_policy or (
        records_pretrained_policy)
    self._policies = (policy_set.PolicySet(policies, count)
                      if uses_policies else None)
    num_policies = len(policies) if uses_policies else 0
    if self._handover.guidance != bt_config.Guidance.NONE and not (
        exploration.uses_pretrained_policy and
        0 <= self._handover.guide_policy < num_policies):
      raise ValueError('Episode-start guidance needs a pre-trained policy '
                       f'number {self._handover.guide_policy} (of '
                       f'{num_policies}) in an exploration that uses pi_p.')
    self._network = network
    self._num_actions = num_actions
    # a+_k (k = 0..K-1) is output num_actions + k of Q.
    self._num_extra_actions = (num_policies if exploration.uses_extra_action
                               else 0)
    self._num_choices = num_actions + self._num_extra_actions
    outputs = _num_outputs(network, observation_spec)
    if outputs != self._num_choices:
      raise ValueError(
          f'Exploration {exploration.value!r} over {num_actions} actions '
          f'needs a network with {self._num_choices} outputs (|A|'
          f'{f" + {self._num_extra_actions} for a+" if self._num_extra_actions else ""}'
          f'), got {outputs}.')
    self._exploration = exploration
    self._epsilons = np.asarray(epsilons, np.float64)
    self._levy_epsilons = (np.asarray(levy_epsilons, np.float64)
                           if exploration.uses_flights else np.zeros(count))
    self._records = records_pretrained_policy
    self._pretrained_temperature = pretrained_temperature
    self._adders = adders
    self._variable_client = variable_client
    self._flight_length_exponent = flight_length_exponent
    self._rngs = [np.random.RandomState(seed)
                  for seed in (seeds if seeds is not None else range(count))]
    self._q_states = r2d2_actor.RecurrentStates(network.initial_state(1),
                                                 count)
    self._evaluate = fixed_shape_function.FixedShapeFunction(
        self._evaluate_in_tf)
    self._curriculum = handover.GuidanceCurriculum(self._handover)
    self._flight_steps_left = np.zeros(count, np.int64)
    self._flight_action = np.zeros(count, np.int64)
    self._flight_policy = np.zeros(count, np.int64)
    self._guided = np.zeros(count, np.bool_)
    self._horizons = np.zeros(count, np.int64)  # This episode's guidance.
    self._chosen = np.zeros(count, np.int32)
    self._executed = np.zeros(count, np.int32)
    self._in_flight = np.zeros(count, np.bool_)
    self._used_policy = np.full(count, -1, np.int64)  # -1: none this step.
    self._returns = np.zeros(count)
    self._pi_distributions = np.zeros(
        (count, policies[0].num_actions if self._policies else 0), np.float32)
    self._counts = np.zeros((count, len(_COUNTS)), np.int64)
    self._policy_counts = np.zeros(
        (count, len(_POLICY_COUNTS), max(num_policies, 1)), np.int64)

  @property
  def num_environments(self) -> int:
    return len(self._epsilons)

  @property
  def num_policies(self) -> int:
    return len(self._policies) if self._policies else 0

  @property
  def curriculum(self) -> handover.GuidanceCurriculum:
    """Episode-start guidance's horizon schedule (shared by the actor's
    environments)."""
    return self._curriculum

  def observe_first(self, index, timestep):
    """A new episode in environment `index`: fresh states, no flight but,
    with episode-start guidance, the guide's."""
    self._q_states.reset(index)
    if self._policies:
      self._policies.reset(index)
    self._flight_steps_left[index] = 0
    self._guided[index] = False
    if self._handover.guidance != bt_config.Guidance.NONE:
      horizon = self._curriculum.horizon(self._rngs[index])
      self._horizons[index] = horizon
      self._flight_steps_left[index] = horizon
      self._flight_policy[index] = self._handover.guide_policy
      self._guided[index] = horizon > 0
    self._returns[index] = 0.
    self._counts[index] = 0
    self._policy_counts[index] = 0
    if self._adders:
      self._adders[index].add_first(timestep)

  def _evaluate_in_tf(self, observations, q_state, pi_states):
    """Q's values and greedy choices, and the TF-backed pi_p's actions (and
    the first one's distribution), in one TF call for all environments."""
    q_values, q_state = self._network(observations, q_state)
    greedy = tf.argmax(q_values, axis=-1, output_type=tf.int32)
    if self._policies:
      pi_actions, pi_distributions, pi_states = self._policies.tf_act(
          observations, pi_states,
          self._pretrained_temperature if self._records else 0.)
    else:
      pi_actions = tf.zeros([0, tf.shape(greedy)[0]], tf.int32)
      pi_distributions = tf.zeros((tf.shape(greedy)[0], 0))
    return q_values, greedy, q_state, pi_actions, pi_distributions, pi_states

  def _policy_step(self, observations):
    """1. Q and every pi_p see every observation (pi_p also in flights);
    returns Q's values [B, C], its greedy choices [B] and each pi_p's
    actions [K, B]."""
    pi_states = self._policies.tf_states() if self._policies else ()
    (q_values, greedy, q_state, tf_actions, pi_distributions,
     pi_states) = self._evaluate(batched_loop.stack(observations),
                                 self._q_states.current, pi_states)
    self._q_states.advance(q_state)
    if not self._policies:
      return q_values.numpy(), greedy.numpy(), np.zeros((0, len(greedy)))
    self._policies.advance(pi_states)
    pi_actions = self._policies.actions(observations, tf_actions.numpy())
    if self._records:  # A plain-Python pi_p is deterministic, as far as
      # the actor knows: its distribution is one-hot.
      self._pi_distributions[:] = (
          pi_distributions.numpy() if self._policies.first_in_tf else
          np.eye(self._policies.num_actions, dtype=np.float32)[pi_actions[0]])
    return q_values.numpy(), greedy.numpy(), pi_actions

  def select_actions(self, observations) -> np.ndarray:
    q_values, greedy, pi_actions = self._policy_step(observations)
    config = self._handover
    for index, rng in enumerate(self._rngs):
      # A value-ended flight stops once Q prefers a primitive action to its
      # policy's a+_k by the margin (guidance flies its whole horizon).
      if (self._flight_steps_left[index] > 0 and not self._guided[index] and
          self._num_extra_actions and handover.flight_ends_early(
              q_values[index], self._num_actions,
              self._flight_policy[index], config.flight_end_margin)):
        self._flight_steps_left[index] = 0
      # 2. Maybe start a flight.
      if (self._flight_steps_left[index] == 0 and
          rng.rand() < self._levy_epsilons[index]):
        self._flight_steps_left[index] = handover.flight_length(
            rng, config, self._flight_length_exponent)
        self._flight_action[index] = rng.randint(self._num_actions)
        self._flight_policy[index] = handover.choose_policy(
            rng, config, q_values[index, self._num_actions:]
            if self._num_extra_actions else None, self.num_policies)
        self._guided[index] = False  # A random flight, after any guidance.
      in_flight = self._flight_steps_left[index] > 0
      if in_flight:
        # 3. In a flight pi_p acts (epsilon-z-greedy: one repeated random
        # action).
        self._flight_steps_left[index] -= 1
        if self._exploration == Exploration.EZ_GREEDY:
          used, executed = -1, self._flight_action[index]
        else:
          used = self._flight_policy[index]
          executed = pi_actions[used, index]
        chosen = executed
      else:
        self._guided[index] = False
        # 4. Epsilon-greedy over A+; a+_k executes pi_k's action.
        if rng.rand() < self._epsilons[index]:
          chosen = rng.randint(self._num_choices)
        else:
          chosen = greedy[index]
        used = chosen - self._num_actions if chosen >= self._num_actions else -1
        executed = pi_actions[used, index] if used >= 0 else chosen
      self._chosen[index] = chosen
      self._executed[index] = executed
      self._in_flight[index] = in_flight
      self._used_policy[index] = used
    self._count(greedy)
    # The dtype of the environment's action spec.
    return self._executed.copy()

  def _count(self, greedy: np.ndarray) -> None:
    counts = self._counts
    counts[:, 0] += 1
    counts[:, 2] += self._in_flight
    counts[:, 4] += self._guided & self._in_flight
    if not self._num_extra_actions and not self.num_policies:
      return
    extra = greedy >= self._num_actions
    executed_extra = ~self._in_flight & (self._chosen >= self._num_actions)
    if self._num_extra_actions:
      counts[:, 1] += extra
      counts[:, 3] += executed_extra
    if self.num_policies < 2:  # Per-policy counts are logged for several.
      return
    rows = np.arange(len(greedy))
    greedy_policy = np.clip(greedy - self._num_actions, 0, None)
    self._policy_counts[rows, 0, greedy_policy] += extra
    used = np.clip(self._used_policy, 0, None)
    self._policy_counts[rows, 1, used] += self._in_flight & (
        self._used_policy >= 0)
    self._policy_counts[rows, 2, used] += executed_extra

  def observe(self, index, action, next_timestep):
    del action  # The executed action; replay stores the chosen one too.
    self._returns[index] += next_timestep.reward or 0.
    if next_timestep.last():
      self._curriculum.episode_ended(self._returns[index])
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
    a+ uses in its current episode; with several pi_p also each policy's
    (suffix _k); with guidance the guided fraction and the horizon."""
    counts = dict(zip(_COUNTS, self._counts[index]))
    steps = max(counts['steps'], 1)
    metrics = {
        'greedy_extra_action_fraction':
            counts['greedy_is_extra_action'] / steps,
        'flight_fraction': counts['in_flight'] / steps,
        'extra_action_fraction': counts['executed_extra_action'] / steps,
    }
    if self.num_policies > 1:
      for k in range(self.num_policies):
        for name, value in zip(_POLICY_COUNTS,
                               self._policy_counts[index, :, k]):
          metrics[_policy_metric(name, k)] = value / steps
    if self._handover.guidance != bt_config.Guidance.NONE:
      metrics['guided_fraction'] = counts['guided'] / steps
      metrics['guidance_horizon'] = float(self._horizons[index])
    return metrics


def _policy_metric(count: str, policy: int) -> str:
  return {'greedy_is_extra_action': 'greedy_extra_action_fraction',
          'in_flight': 'flight_fraction',
          'executed_extra_action': 'extra_action_fraction'}[count] + (
              f'_{policy}')


def metric_columns(num_policies: int, guided: bool) -> tuple:
  """The actor's per-episode metric columns for K policies."""
  columns = ('greedy_extra_action_fraction', 'flight_fraction',
             'extra_action_fraction')
  if num_policies > 1:
    columns += tuple(_policy_metric(name, k) for k in range(num_policies)
                     for name in _POLICY_COUNTS)
  if guided:
    columns += ('guided_fraction', 'guidance_horizon')
  return columns


def make_actor(network: snt.RNNCore,
               num_actions: int,
               epsilon: float,
               levy_epsilon: float,
               pretrained: Optional[Policies] = None,
               exploration: Exploration = Exploration.BT,
               adder: Optional[adders_lib.Adder] = None,
               variable_source: Optional[acme.VariableSource] = None,
               variable_update_period: int = 400,
               flight_length_exponent: float = 2.0,
               seed: int = 0,
               observation_spec: Optional[Any] = None,
               records_pretrained_policy: bool = False,
               pretrained_temperature: float = 0.,
               handover_config: Optional[bt_config.HandoverConfig] = None
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
      records_pretrained_policy, pretrained_temperature, handover_config))
