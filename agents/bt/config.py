"""Behavior Transfer configuration: exploration mode and its rates over R2D2."""

import dataclasses
import enum
from typing import List

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

  def __post_init__(self):
    self.exploration = Exploration(self.exploration)
    if isinstance(self.retention, dict):  # Read back from config.json.
      self.retention = retention_config.RetentionConfig(**self.retention)

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
