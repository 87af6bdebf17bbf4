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
"""

from typing import Dict, Optional

from acme import adders
from acme import core
from acme.tf import utils as tf2_utils
from acme.tf import variable_utils
from acme.utils import observers
import dm_env
import numpy as np
import tensorflow as tf

from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.bt import pretrained as pretrained_lib
from behavior_transfer.networks import q_network

Exploration = bt_config.Exploration


def sample_flight_length(rng: np.random.RandomState, exponent: float) -> int:
  """n ~ Zeta(exponent): P(n) = n^-exponent / zeta(exponent), n >= 1."""
  return int(rng.zipf(exponent))


class BehaviorTransferActor(core.Actor):
  """Explores with flights of pi_p and the extra action a+ (Algorithm 1)."""

  def __init__(self,
               network: q_network.RecurrentQNetwork,
               num_actions: int,
               exploration: Exploration,
               epsilon: float,
               levy_epsilon: float,
               pretrained: Optional[pretrained_lib.PretrainedPolicy] = None,
               adder: Optional[adders.Adder] = None,
               variable_client: Optional[variable_utils.VariableClient] = None,
               flight_length_exponent: float = 2.0,
               seed: int = 0):
    exploration = Exploration(exploration)
    if exploration.uses_pretrained_policy and pretrained is None:
      raise ValueError(f'Exploration {exploration.value!r} needs a pre-trained '
                       'policy.')
    self._network = network
    self._num_actions = num_actions
    self._extra_action = num_actions  # a+ is the last output of Q.
    self._num_choices = num_actions + int(exploration.uses_extra_action)
    if network.num_outputs != self._num_choices:
      raise ValueError(f'{exploration.value!r} needs a Q-network with '
                       f'{self._num_choices} outputs, got {network.num_outputs}.')
    self._exploration = exploration
    self._epsilon = epsilon
    self._levy_epsilon = levy_epsilon if exploration.uses_flights else 0.
    self._pretrained = pretrained if exploration.uses_pretrained_policy else None
    self._adder = adder
    self._variable_client = variable_client
    self._flight_length_exponent = flight_length_exponent
    self._rng = np.random.RandomState(seed)
    self._pretrained_in_tf = (self._pretrained is not None and
                              self._pretrained.tf_step is not None)
    self._evaluate = tf.function(self._evaluate_in_tf)
    self._start_episode()

  def _start_episode(self):
    self._q_state = self._network.initial_state(1)
    self._pi_state = (self._pretrained.initial_state()
                      if self._pretrained is not None else ())
    self._flight_steps_left = 0
    self._flight_action = 0
    self._last = None  # What the adder needs about the last step.
    self._counts = {'steps': 0, 'greedy_is_extra_action': 0, 'in_flight': 0,
                    'executed_extra_action': 0}

  def _evaluate_in_tf(self, observation, q_state, pi_state):
    """Q's greedy choice, and pi_p's action when pi_p is TF-backed, in one
    TF call."""
    observation = tf2_utils.add_batch_dim(observation)
    q_values, q_state = self._network(observation, q_state)
    if self._pretrained_in_tf:
      pi_action, pi_state = self._pretrained.tf_step(observation, pi_state)
    else:
      pi_action = tf.zeros([1], tf.int32)
    greedy = tf.argmax(q_values[0], output_type=tf.int32)
    return greedy, q_state, pi_action[0], pi_state

  def select_action(self, observation) -> int:
    # 1. Q and pi_p both see every observation.
    if self._pretrained_in_tf:
      greedy, next_q_state, pi_action, next_pi_state = self._evaluate(
          observation, self._q_state, self._pi_state)
    else:  # pi_p is plain Python (or absent): step it outside TF.
      greedy, next_q_state, pi_action, _ = self._evaluate(
          observation, self._q_state, ())
      next_pi_state = self._pi_state
      if self._pretrained is not None:
        pi_action, next_pi_state = self._pretrained.step(observation,
                                                         self._pi_state)
    pi_action = int(pi_action)
    greedy = int(greedy)

    # 2. Maybe start a flight.
    if self._flight_steps_left == 0 and self._rng.rand() < self._levy_epsilon:
      self._flight_steps_left = sample_flight_length(
          self._rng, self._flight_length_exponent)
      self._flight_action = self._rng.randint(self._num_actions)

    in_flight = self._flight_steps_left > 0
    if in_flight:
      # 3. In a flight pi_p acts (epsilon-z-greedy: one repeated random action).
      self._flight_steps_left -= 1
      executed = (self._flight_action if self._exploration == Exploration.EZ_GREEDY
                  else pi_action)
      chosen = executed
    else:
      # 4. Epsilon-greedy over A+; a+ executes pi_p's action.
      if self._rng.rand() < self._epsilon:
        chosen = self._rng.randint(self._num_choices)
      else:
        chosen = greedy
      executed = pi_action if chosen == self._extra_action else chosen

    self._last = {
        'chosen': chosen,
        'executed_action': np.int32(executed),
        'in_flight': np.bool_(in_flight),
        'core_state': self._q_state,  # Converted only if the adder needs it.
    }
    self._q_state, self._pi_state = next_q_state, next_pi_state
    self._count(greedy, chosen, in_flight)
    return np.int32(executed)  # The dtype of the environment's action spec.

  def _count(self, greedy: int, chosen: int, in_flight: bool):
    counts = self._counts
    counts['steps'] += 1
    counts['in_flight'] += int(in_flight)
    if self._exploration.uses_extra_action:
      counts['greedy_is_extra_action'] += int(greedy == self._extra_action)
      counts['executed_extra_action'] += int(
          not in_flight and chosen == self._extra_action)

  def observe_first(self, timestep: dm_env.TimeStep):
    self._start_episode()
    if self._adder:
      self._adder.add_first(timestep)

  def observe(self, action, next_timestep: dm_env.TimeStep):
    del action  # The executed action; replay stores the chosen one too.
    if self._adder:
      last = self._last
      self._adder.add(
          np.int32(last['chosen']), next_timestep,
          extras={'executed_action': last['executed_action'],
                  'in_flight': last['in_flight'],
                  'core_state': tf2_utils.to_numpy_squeeze(last['core_state'])})

  def update(self, wait: bool = False):
    if self._variable_client:
      self._variable_client.update(wait)

  def episode_metrics(self) -> Dict[str, float]:
    """This episode's fraction of greedy a+ choices, flight steps and a+ uses."""
    steps = max(self._counts['steps'], 1)
    return {
        'greedy_extra_action_fraction':
            self._counts['greedy_is_extra_action'] / steps,
        'flight_fraction': self._counts['in_flight'] / steps,
        'extra_action_fraction': self._counts['executed_extra_action'] / steps,
    }


class EpisodeMetricsObserver(observers.EnvLoopObserver):
  """Adds the actor's BT metrics to each episode's log row."""

  def __init__(self, actor: BehaviorTransferActor):
    self._actor = actor

  def observe_first(self, env, timestep):
    del env, timestep

  def observe(self, env, timestep, action):
    del env, timestep, action

  def get_metrics(self) -> Dict[str, float]:
    return self._actor.episode_metrics()
