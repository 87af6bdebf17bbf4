"""R2D2 configuration with the R2D2 / Agent57 papers' defaults."""

import dataclasses
from typing import Dict, List, Mapping, TypeVar

from behavior_transfer.acting import whole_sequence_adder
from behavior_transfer.networks import q_network

T = TypeVar('T')

# What an actor's Q-network can compute in.
ACTING_DTYPES = q_network.DTYPES


@dataclasses.dataclass
class R2D2Config:
  """Hyperparameters of distributed R2D2.

  Replay memory is `max_replay_size` sequences of
  `burn_in_length + trace_length + 1` steps each, overlapping: a full table
  holds about max_replay_size x replay_period steps where the sequences
  share Reverb chunks, and `stored_steps_per_step` times that where actors
  send each whole. With the defaults on Atari (an 84x84 uint8 frame and a
  2 x 512 float32 LSTM state per step) that is 41.6 GiB, uncompressed, or
  3.025x for actors of several environments sharing a writer. Size it to the machine's memory
  (`python -m behavior_transfer.launch.sizing` prints it per preset);
  the MiniGrid preset is sized for a laptop.
  """
  # Sequences.
  trace_length: int = 80  # Steps trained on per sequence (m in R2D2).
  burn_in_length: int = 40  # Steps only used to warm the LSTM state up.
  replay_period: int = 40  # A new sequence starts every this many steps.
  store_lstm_state: bool = True

  # Returns and loss.
  discount: float = 0.997
  n_step: int = 5
  max_priority_weight: float = 0.9  # priority = 0.9 max|d| + 0.1 mean|d|.
  priority_exponent: float = 0.9
  importance_sampling_exponent: float = 0.6
  # The priority a sequence enters replay with, until the learner first
  # samples it and sets it from its TD errors. Acme's adders write 1.0.
  # Prioritised replay (Schaul et al. 2016) enters new items above the
  # learnt priorities so each is seen; where returns are large (NGU's
  # intrinsic ones) learnt priorities exceed 1.0 and new sequences, rare
  # events included, were sampled less than old ones (UnlockPickup:
  # docs/transfer_suite.md, "New sequences first").
  initial_priority: float = 1.0

  # Optimisation.
  learning_rate: float = 1e-4
  adam_epsilon: float = 1e-3
  batch_size: int = 64
  target_update_period: int = 2500
  clip_grad_norm: float = 40.0

  # Replay.
  min_replay_size: int = 6250  # Sequences before learning starts.
  max_replay_size: int = 100_000  # Sequences; see the class docstring.
  # The replay ratio: how many times the learner trains on each actor step,
  # on average (learner steps x batch_size x trace_length / actor steps).
  # Replay's rate limiter holds it there, blocking actors or learner as
  # needed; 0 lets the learner run freely. See `samples_per_insert`.
  replay_ratio: float = 0.0
  samples_per_insert_tolerance: float = 0.1
  prefetch_size: int = 4

  # The Q-network preset's size: 'standard' (Agent57's network on Atari,
  # the small one on MiniGrid) or, on Atari, 'tiny' (tests, smoke runs).
  network_size: str = 'standard'

  # Acting. How many actors and environments there are is the program's
  # (`distributed.program_config.ProgramConfig`); environment i of all N
  # explores with epsilon_i = 0.4 ** (1 + alpha * i / (N - 1)).
  epsilon_base: float = 0.4
  epsilon_alpha: float = 7.0
  evaluation_epsilon: float = 0.0  # Evaluators act greedily.
  # Actor steps (batched steps of a node) between weight fetches.
  variable_update_period: int = 400
  # What the actors' copy of the Q-network computes in: 'float32', or
  # 'bfloat16': on CPUs with AMX the Atari acting call 1.54x and the Atari
  # actor node 1.10x faster; slower on CPUs without bfloat16 units
  # (docs/results.md, "bfloat16 acting"). Learner, evaluator, pi_p and
  # replay stay float32.
  acting_dtype: str = 'float32'
  # An actor over several environments writes replay through one Reverb
  # writer, each item a whole sequence (acting/whole_sequence_adder.py;
  # its node 1.09-1.24x faster, docs/results.md "One replay writer per
  # actor"), at the price of sending and holding each step in every item
  # that contains it (`stored_steps_per_step`). False: one writer per
  # environment, whose items share chunks.
  share_replay_writer: bool = True

  def __post_init__(self):
    if not 0. < self.discount <= 1.:
      raise ValueError(f'discount must be in (0, 1], got {self.discount}.')
    if not self.initial_priority > 0.:
      raise ValueError(
          f'initial_priority must be positive, got {self.initial_priority}.')
    if self.acting_dtype not in ACTING_DTYPES:
      raise ValueError(f'Unknown acting_dtype {self.acting_dtype!r}; valid: '
                       f'{", ".join(ACTING_DTYPES)}.')

  def shares_replay_writer(self, envs_per_actor: int) -> bool:
    """Whether an actor over `envs_per_actor` environments writes through
    one writer shared by its environments' adders."""
    return (self.share_replay_writer and
            whole_sequence_adder.shares_one_writer(envs_per_actor))

  def stored_steps_per_step(self, envs_per_actor: int) -> float:
    """How many times replay receives and holds each environment step of
    such an actor: once where items share chunks, `sequence_length /
    replay_period` times (3.025 at the defaults) where each is sent whole."""
    if self.shares_replay_writer(envs_per_actor):
      return self.sequence_length / self.replay_period
    return 1.

  def epsilons(self, num_environments: int) -> List[float]:
    """epsilon of each of all actors' `num_environments` environments."""
    return epsilon_ladder(num_environments, self.epsilon_base,
                          self.epsilon_alpha)

  @property
  def samples_per_insert(self) -> float:
    """Reverb's ratio for `replay_ratio`: a sequence is inserted every
    `replay_period` actor steps and each sample trains on `trace_length`."""
    return self.replay_ratio * self.replay_period / self.trace_length

  @property
  def sequence_length(self) -> int:
    """Steps stored per replay item: burn-in, trace and one bootstrap step."""
    return self.burn_in_length + self.trace_length + 1


# The hyperparameters of each domain's presets (a preset also picks the
# program's settings: `distributed.program_config.PRESETS`). 'standard' is
# what a launcher uses by default.
PRESETS: Dict[str, Dict[str, R2D2Config]] = {
    'atari': {
        'standard': R2D2Config(),
        # The papers' scale: the same hyperparameters; the program has 256
        # actors.
        'paper': R2D2Config(),
        # The Atari programs at their smallest: the tiny network, 11-step
        # sequences, a few hundred replay items. Tests and smoke runs of the
        # whole Atari pipeline on CPU; it learns nothing useful.
        'tiny': R2D2Config(
            network_size='tiny', trace_length=8, burn_in_length=2,
            replay_period=4, discount=0.99, n_step=3, learning_rate=1e-3,
            batch_size=4, target_update_period=20, min_replay_size=8,
            max_replay_size=500, replay_ratio=1.0, variable_update_period=20),
    },
    'minigrid': {
        # MiniGrid-sized problems on a 2-core machine.
        'standard': R2D2Config(
            trace_length=20, burn_in_length=5, replay_period=10,
            discount=0.99, n_step=3, learning_rate=1e-3, batch_size=32,
            target_update_period=100, min_replay_size=50,
            max_replay_size=10_000,
            # Chosen by benchmarks/learning_speed.py: with 16 environments
            # per actor, training on each step 16 times reached the success
            # thresholds sooner per wall-clock minute, and more reliably,
            # than 4 (the learner, not experience, limits these small
            # tasks). Reward-free pre-training trades the other way
            # (agents/ngu/config.py).
            replay_ratio=16.0, variable_update_period=50),
    },
}


def lookup_preset(registry: Mapping[str, Mapping[str, T]], domain: str,
                  name: str) -> T:
  """`registry[domain][name]`; unknown names list the valid ones."""
  presets = registry.get(domain)
  if presets is None:
    raise ValueError(f'No presets for domain {domain!r}; valid: '
                     f'{", ".join(registry)}.')
  if name not in presets:
    raise ValueError(f'Unknown preset {name!r} for {domain}; valid: '
                     f'{", ".join(presets)}.')
  return presets[name]


def preset(domain: str, name: str = 'standard', **fields) -> R2D2Config:
  """A fresh copy of a domain's preset, with `fields` replaced."""
  return dataclasses.replace(lookup_preset(PRESETS, domain, name), **fields)


def epsilon_ladder(num_actors: int, base: float = 0.4,
                   alpha: float = 7.0) -> list:
  """Per-actor exploration rates eps_i = base ** (1 + alpha * i / (N - 1))."""
  if num_actors == 1:
    return [base]
  return [base**(1 + alpha * i / (num_actors - 1)) for i in range(num_actors)]
