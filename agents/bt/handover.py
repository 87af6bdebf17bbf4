"""How control passes to the pre-trained policies: flight lengths, which of
several pi_p a flight runs, when a flight ends early, and episode-start
guidance. The BT actor (actor.py) calls these; with `HandoverConfig`'s
defaults they are the paper's randomly started Zeta(2) flights."""

from typing import List, Optional

import numpy as np

from behavior_transfer.agents.bt import config as bt_config


def sample_flight_length(rng: np.random.RandomState, exponent: float) -> int:
  """n ~ Zeta(exponent): P(n) = n^-exponent / zeta(exponent), n >= 1."""
  return int(rng.zipf(exponent))


def flight_length(rng: np.random.RandomState,
                  config: bt_config.HandoverConfig, exponent: float) -> int:
  """A flight's length: Zeta(exponent), or geometric on {1, 2, ...} with
  mean `config.flight_length_mean`."""
  if config.flight_length_distribution == bt_config.FlightLengths.GEOMETRIC:
    return int(rng.geometric(1. / config.flight_length_mean))
  return sample_flight_length(rng, exponent)


def choose_policy(rng: np.random.RandomState,
                  config: bt_config.HandoverConfig,
                  extra_action_values: Optional[np.ndarray],
                  num_policies: int) -> int:
  """Which pi_p a flight runs: uniformly, or with probabilities
  softmax(Q(s, a+_k) / temperature) given the values of the a+_k."""
  if num_policies <= 1:  # One pi_p, or none (epsilon-z-greedy).
    return 0
  if (config.flight_policy_choice == bt_config.PolicyChoice.UNIFORM or
      extra_action_values is None):
    return int(rng.randint(num_policies))
  logits = np.asarray(extra_action_values, np.float64) / (
      config.flight_policy_temperature)
  probabilities = np.exp(logits - logits.max())
  return int(rng.choice(num_policies, p=probabilities / probabilities.sum()))


def flight_ends_early(q_values: np.ndarray, num_actions: int, policy: int,
                      margin: Optional[float]) -> bool:
  """Value-ended flights: whether the greedy primitive value exceeds
  Q(s, a+_policy) by more than `margin` (never without a margin)."""
  if margin is None:
    return False
  return bool(q_values[:num_actions].max() - q_values[num_actions + policy]
              > margin)


class GuidanceCurriculum:
  """Episode-start guidance's horizon h (Jump-Start RL).

  Curriculum: h starts at `guidance_horizon` and drops by
  horizon / guidance_stages each time the mean return of the last
  `guidance_window` episodes comes within guidance_tolerance x |reference| of
  the reference, the mean of the first full window (the guide's own performance, as it
  then acts for the longest). Random: h ~ Uniform{0, ..., horizon}, drawn
  per episode.
  """

  def __init__(self, config: bt_config.HandoverConfig):
    self._config = config
    self._stage = 0
    self._window: List[float] = []
    self._reference: Optional[float] = None

  @property
  def stage(self) -> int:
    return self._stage

  def horizon(self, rng: np.random.RandomState) -> int:
    """h for an episode that starts now (0 without guidance)."""
    config = self._config
    if config.guidance == bt_config.Guidance.RANDOM:
      return int(rng.randint(config.guidance_horizon + 1))
    if config.guidance == bt_config.Guidance.CURRICULUM:
      remaining = config.guidance_stages - self._stage
      return int(round(config.guidance_horizon * remaining /
                       config.guidance_stages))
    return 0

  def episode_ended(self, episode_return: float) -> None:
    """Counts a finished episode's return; moves to the next stage when the
    rule says."""
    config = self._config
    if (config.guidance != bt_config.Guidance.CURRICULUM or
        self._stage == config.guidance_stages):
      return
    self._window.append(episode_return)
    if len(self._window) < config.guidance_window:
      return
    mean = float(np.mean(self._window))
    self._window = []
    if self._reference is None:
      self._reference = mean
    elif mean >= self._reference - config.guidance_tolerance * abs(
        self._reference):
      self._stage += 1
