"""NGU pre-training configuration: the intrinsic reward's constants over R2D2."""

import dataclasses
import enum
from typing import Any, Dict

from behavior_transfer.agents.r2d2 import config as r2d2_config


class IntrinsicReward(str, enum.Enum):
  """What the reward-free pre-training agent maximises."""
  NGU = 'ngu'  # Episodic novelty modulated by RND (Badia et al. 2020).
  RND = 'rnd'  # RND prediction error alone (Burda et al. 2019).
  CONSTANT = 'constant'  # +1 per step: favours long episodes.


@dataclasses.dataclass
class NGUConfig:
  """NGU's defaults (Badia et al. 2020, appendix F) over an R2D2 config."""
  r2d2: r2d2_config.R2D2Config = dataclasses.field(
      default_factory=r2d2_config.R2D2Config)
  intrinsic_reward: IntrinsicReward = IntrinsicReward.NGU
  # Episodic novelty.
  num_neighbours: int = 10  # k.
  kernel_epsilon: float = 1e-4  # eps of K(x, y) = eps / (d^2 / d_m^2 + eps).
  cluster_distance: float = 0.008  # xi.
  pseudo_count_constant: float = 1e-3  # c.
  maximum_similarity: float = 8.0  # s_m.
  embedding_size: int = 32  # Size of the controllable-state embedding f.
  # Embeddings an episode's memory holds; once full, each new one replaces
  # the oldest.
  episodic_memory_capacity: int = 30_000
  # Life-long novelty (RND).
  max_modulation: float = 5.0  # L.
  # alpha's mean and std of RND errors follow each environment's latest
  # ~this many errors; 0: all its errors since the actor started. RND's
  # errors fall by orders of magnitude as its predictor learns, so with 0
  # the first errors set the std for the whole run and alpha stays at 1 (on
  # UnlockPickup, 1.000-1.005 per episode after the first 50k steps).
  rnd_statistics_horizon: int = 0
  rnd_output_size: int = 128
  # RND's inputs whitened by running observation statistics, clipped to
  # [-5, 5] (Burda et al. 2019); False feeds the torso's usual scaling.
  rnd_observation_normalization: bool = True
  # Training of f (inverse dynamics) and the RND predictor on the learner.
  intrinsic_learning_rate: float = 5e-4
  # Fraction of each replay batch's sequences that trains f and the RND
  # predictor (the Q-network always trains on the whole batch). NGU trains
  # them on every sequence (1.0); an eighth keeps the NGU learner's update
  # within 1/0.75 of R2D2's on CPU (benchmarks/learner_cost.py).
  intrinsic_batch_fraction: float = 0.125
  # The level's own ends (a goal reached, a life lost) as time limits: the
  # intrinsic return bootstraps there instead of stopping. A stopping return
  # teaches pi_p to avoid the goal, the one state that ends its novelty (on
  # DoorKey pi_p opens the door and never steps onto the goal); RND (Burda et
  # al. 2019) keeps the intrinsic return non-episodic for the same reason.
  bootstrap_at_level_end: bool = False

  def __post_init__(self):
    self.intrinsic_reward = IntrinsicReward(self.intrinsic_reward)


# Small domains: pre-training is about gathering novel experience, so it
# trains on each actor step 4 times (transfer learning: 16), letting the
# batched actors run ~4x faster (benchmarks/program_throughput.py).
SMALL_DOMAIN_REPLAY_RATIO = 4.0
# Small domains: a 20-step horizon, which kept greedy pi_p from turning on the
# spot or looping on key levels, and new sequences entering replay far above
# the learnt priorities, so that a rare door opening is replayed before it
# leaves. Together they explored at least as much as 0.99 and 1.0 on every
# level and seed measured: MultiRoom and DoorKey over 2x random, UnlockPickup
# 20x in one run of four and 1.1-1.3x in the others (0.99: 0.71x), before
# alpha's statistics below; see docs/transfer_suite.md, the zoo.
SMALL_DOMAIN_DISCOUNT = 0.95
SMALL_DOMAIN_INITIAL_PRIORITY = 100.
# alpha's RND statistics over each environment's latest ~1000 errors (3-8
# episodes), so that alpha modulates: over all errors it stayed at 1.00 after
# the first 50k steps. With it UnlockPickup's pi_p opened the locked door
# within 2M steps in 2 runs of 3, against 0 of 3 without, and DoorKey and
# MultiRoom stayed explorers (docs/transfer_suite.md, the zoo).
SMALL_DOMAIN_RND_STATISTICS_HORIZON = 1000
# How NGU's presets differ from R2D2's of the same name: R2D2 fields (in
# 'r2d2') and NGUConfig fields.
PRESET_CHANGES: Dict[str, Dict[str, Dict[str, Any]]] = {
    'atari': {'standard': {}, 'paper': {},
              # Small intrinsic models: embedding, RND output and memory.
              'tiny': {'embedding_size': 8, 'rnd_output_size': 16,
                       'episodic_memory_capacity': 2000}},
    'minigrid': {'standard': {
        'r2d2': {'replay_ratio': SMALL_DOMAIN_REPLAY_RATIO,
                 'discount': SMALL_DOMAIN_DISCOUNT,
                 'initial_priority': SMALL_DOMAIN_INITIAL_PRIORITY},
        'rnd_statistics_horizon': SMALL_DOMAIN_RND_STATISTICS_HORIZON}},
}


def preset(domain: str, name: str = 'standard',
           intrinsic_reward: IntrinsicReward = IntrinsicReward.NGU,
           **fields) -> NGUConfig:
  """Pre-training with `intrinsic_reward` under a domain's preset: R2D2's of
  that name with NGU's changes (`PRESET_CHANGES`); `fields` replace
  NGUConfig fields (the R2D2 ones are in `r2d2`)."""
  changes = dict(r2d2_config.lookup_preset(PRESET_CHANGES, domain, name))
  r2d2 = r2d2_config.preset(domain, name, **changes.pop('r2d2', {}))
  return NGUConfig(r2d2=r2d2, intrinsic_reward=intrinsic_reward,
                   **{**changes, **fields})
