"""Behavior Transfer configuration: exploration mode and its rates over R2D2."""

import dataclasses
import enum
from typing import List, Optional

from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.agents.retention import config as retention_config


class Exploration(str, enum.Enum):
  """What explores during transfer (paper section 3 and its ablations)."""
  BT = 'bt'  # Flights of pi_p and the extra action a+.
  FLIGHTS = 'flights'  # Flights of pi_p only.
  EXTRA_ACTION = 'extra_action'  # The extra action a+ only.
  EPSILON_GREEDY = 'epsilon_greedy'  # Plain R2D2.
  EZ_GREEDY = 'ez_greedy'  # Flights repeating one random action (Dabney et al. 2021).

  @property
  def uses_flights(self) -> bool:
    return self in (Exploration.BT, Exploration.FLIGHTS, Exploration.EZ_GREEDY)

  @property
  def uses_extra_action(self) -> bool:
    return self in (Exploration.BT, Exploration.EXTRA_ACTION)

  @property
  def uses_pretrained_policy(self) -> bool:
    return self in (Exploration.BT, Exploration.FLIGHTS,
                    Exploration.EXTRA_ACTION)


class PolicyChoice(str, enum.Enum):
  """Which of several pi_p a flight runs."""
  UNIFORM = 'uniform'
  SOFTMAX = 'softmax'  # Over Q(s, a+_k) / flight_policy_temperature.


class FlightLengths(str, enum.Enum):
  ZETA = 'zeta'  # P(n) proportional to n^-flight_length_exponent (the paper).
  GEOMETRIC = 'geometric'  # Mean flight_length_mean.


class Guidance(str, enum.Enum):
  """Episode-start guidance (Jump-Start RL, Uchendu et al. 2022)."""
  NONE = 'none'
  CURRICULUM = 'curriculum'  # h shrinks by stages once the return holds.
  RANDOM = 'random'  # h ~ Uniform{0, ..., guidance_horizon} per episode.


@dataclasses.dataclass
class HandoverConfig:
  """How control passes to the pre-trained policies beyond the paper's
  randomly started Zeta(2) flights (agents/bt/handover.py). The defaults are
  the paper's BT."""
  # With several pi_p (one a+_k each), the policy a flight runs.
  flight_policy_choice: PolicyChoice = PolicyChoice.UNIFORM
  flight_policy_temperature: float = 1.0
  flight_length_distribution: FlightLengths = FlightLengths.ZETA
  flight_length_mean: float = 10.0
  # Value-ended flights: a flight also ends on the step where the greedy
  # primitive value exceeds Q(s, a+_k) of its policy by this margin (None:
  # flights run their sampled length).
  flight_end_margin: Optional[float] = None
  # Episode-start guidance: pi_p number `guide_policy` acts for the first h
  # steps of each episode. The curriculum (JSRL's rule) starts at
  # h = guidance_horizon and removes horizon / guidance_stages once the mean
  # return of the actor's last guidance_window episodes comes within
  # guidance_tolerance x |reference| of the reference, the mean of its first
  # full window.
  guidance: Guidance = Guidance.NONE
  guide_policy: int = 0
  guidance_horizon: int = 100
  guidance_stages: int = 10
  guidance_window: int = 20
  guidance_tolerance: float = 0.05

  def __post_init__(self):
    self.flight_policy_choice = PolicyChoice(self.flight_policy_choice)
    self.flight_length_distribution = FlightLengths(
        self.flight_length_distribution)
    self.guidance = Guidance(self.guidance)
    if self.flight_policy_temperature <= 0 or self.flight_length_mean < 1:
      raise ValueError('flight_policy_temperature must be positive and '
                       'flight_length_mean at least 1.')
    if self.guidance_stages < 1 or self.guidance_window < 1:
      raise ValueError('guidance_stages and guidance_window must be at '
                       'least 1.')


@dataclasses.dataclass
class BTConfig:
  """R2D2 hyperparameters plus how the pre-trained policy pi_p explores.

  Flight lengths follow Zeta(mu), P(n) proportional to n^-mu for n >= 1
  (mu = 2 in the paper). Acting environment i of N (all actors'
  environments) starts a flight with probability
  levy_epsilon_base ** (1 + levy_epsilon_alpha * i / (N - 1)) on any step
  outside a flight; the paper leaves this ladder to its supplement, so it is
  configurable, with the same shape as R2D2's epsilon ladder.
  """
  r2d2: r2d2_config.R2D2Config = dataclasses.field(
      default_factory=r2d2_config.R2D2Config)
  exploration: Exploration = Exploration.BT
  flight_length_exponent: float = 2.0
  levy_epsilon_base: float = 0.1
  levy_epsilon_alpha: float = 3.0
  # What keeps pi_p's knowledge once fine-tuning starts (none by default).
  retention: retention_config.RetentionConfig = dataclasses.field(
      default_factory=retention_config.RetentionConfig)
  handover: HandoverConfig = dataclasses.field(default_factory=HandoverConfig)

  def __post_init__(self):
    self.exploration = Exploration(self.exploration)
    # Read back from config.json as dicts.
    if isinstance(self.retention, dict):
      self.retention = retention_config.RetentionConfig(**self.retention)
    if isinstance(self.handover, dict):
      self.handover = HandoverConfig(**self.handover)

  def levy_epsilons(self, num_environments: int) -> List[float]:
    """Flight start probability of each of all actors' `num_environments`
    environments (zero without flights)."""
    if not self.exploration.uses_flights:
      return [0.] * num_environments
    return r2d2_config.epsilon_ladder(num_environments,
                                      self.levy_epsilon_base,
                                      self.levy_epsilon_alpha)


def preset(domain: str, name: str = 'standard',
           exploration: Exploration = Exploration.BT, **fields) -> BTConfig:
  """Transfer under `exploration` over R2D2's preset (`r2d2_config.PRESETS`);
  `fields` replace BTConfig fields (the R2D2 ones are in `r2d2`)."""
  return BTConfig(r2d2=r2d2_config.preset(domain, name),
                  exploration=exploration, **fields)
