"""R2D2 configuration with the R2D2 / Agent57 papers' defaults."""

import dataclasses


@dataclasses.dataclass
class R2D2Config:
  """Hyperparameters of distributed R2D2.

  Replay memory is `max_replay_size` sequences of
  `burn_in_length + trace_length + 1` steps each, overlapping: a full table
  holds about max_replay_size x replay_period steps. With the defaults on
  Atari (an 84x84 uint8 frame and a 2 x 512 float32 LSTM state per step)
  that is 41.6 GiB, uncompressed. Size it to the machine's memory
  (`python -m behavior_transfer.launch.sizing` prints it per preset);
  `small_domain_config()` is sized for a laptop.
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

  # Acting.
  num_actors: int = 8
  # Environments each actor steps in lockstep, with one batched network call
  # per step: a node gathers K times the experience for little more cost.
  envs_per_actor: int = 1
  # Environment i of N = num_actors x envs_per_actor explores with
  # epsilon_i = 0.4 ** (1 + alpha * i / (N - 1)).
  epsilon_base: float = 0.4
  epsilon_alpha: float = 7.0
  evaluation_epsilon: float = 0.0  # Evaluators act greedily.
  evaluation_pause_seconds: float = 0.0  # Pause between evaluation episodes.
  # Actor steps (batched steps of a node) between weight fetches.
  variable_update_period: int = 400

  # Bookkeeping: how a run survives a crash, and when it counts as stalled.
  # Counter and learner save at start, every `checkpoint_seconds` and when
  # stopped; a run killed at any moment loses at most one interval.
  checkpoint_seconds: float = 300.0
  # Also checkpoint the replay tables (Reverb's checkpointer, same interval),
  # so a resumed run does not start from an empty buffer. Costs disk: the
  # whole replay memory (see the class docstring).
  checkpoint_replay: bool = False
  # No actor and no learner progress for this long ends the run, reporting
  # what each node was waiting on.
  stall_seconds: float = 300.0

  @property
  def num_environments(self) -> int:
    """Acting environments over all actors: the epsilon ladder's length."""
    return self.num_actors * self.envs_per_actor

  def epsilons(self) -> list:
    """epsilon of every acting environment, actor-major."""
    return epsilon_ladder(self.num_environments, self.epsilon_base,
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


def small_domain_config(**overrides) -> R2D2Config:
  """A preset for MiniGrid-sized problems on a 2-core machine."""
  values = dict(
      trace_length=20,
      burn_in_length=5,
      replay_period=10,
      discount=0.99,
      n_step=3,
      learning_rate=1e-3,
      batch_size=32,
      target_update_period=100,
      min_replay_size=50,
      max_replay_size=10_000,
      # Chosen by benchmarks/learning_speed.py: with 16 environments per
      # actor, training on each step 16 times reached the success
      # thresholds sooner per wall-clock minute, and more reliably, than 4
      # (the learner, not experience, limits these small tasks).
      # Reward-free pre-training trades the other way (ngu/experiment.py).
      envs_per_actor=16,
      replay_ratio=16.0,
      num_actors=2,
      variable_update_period=50,
      evaluation_pause_seconds=5.0,
      checkpoint_seconds=15.0,
      stall_seconds=120.0,
  )
  values.update(overrides)
  return R2D2Config(**values)


def atari_paper_config(**overrides) -> R2D2Config:
  """The papers' Atari scale: 256 single-environment actors over a 100k-
  sequence replay (4M steps, as R2D2 and the BT paper), the Agent57
  network. A cluster job: replay alone holds ~42 GiB when full (README,
  "Presets"); launch it with --launch_type=vertex_ai."""
  return R2D2Config(**{'num_actors': 256, **overrides})


def tiny_atari_config(**overrides) -> R2D2Config:
  """The Atari programs at their smallest: the tiny network, 11-step
  sequences, a few hundred replay items and one actor. Tests and smoke runs
  of the whole Atari pipeline on CPU; it learns nothing useful."""
  values = dict(
      network_size='tiny',
      trace_length=8,
      burn_in_length=2,
      replay_period=4,
      discount=0.99,
      n_step=3,
      learning_rate=1e-3,
      batch_size=4,
      target_update_period=20,
      min_replay_size=8,
      max_replay_size=500,
      replay_ratio=1.0,
      num_actors=1,
      variable_update_period=20,
      evaluation_pause_seconds=5.0,
      checkpoint_seconds=15.0,
      stall_seconds=120.0,
  )
  values.update(overrides)
  return R2D2Config(**values)


# Config presets per domain: 'standard' is what a launcher uses by default.
PRESETS = {
    'atari': {'standard': R2D2Config, 'paper': atari_paper_config,
              'tiny': tiny_atari_config},
    'minigrid': {'standard': small_domain_config},
}


def preset_config(domain: str, preset: str = 'standard',
                  **overrides) -> R2D2Config:
  """The R2D2 config of a domain's preset; unknown names list the valid."""
  presets = PRESETS.get(domain)
  if presets is None:
    raise ValueError(f'No presets for domain {domain!r}; valid: '
                     f'{", ".join(PRESETS)}.')
  if preset not in presets:
    raise ValueError(f'Unknown preset {preset!r} for {domain}; valid: '
                     f'{", ".join(presets)}.')
  return presets[preset](**overrides)


def epsilon_ladder(num_actors: int, base: float = 0.4,
                   alpha: float = 7.0) -> list:
  """Per-actor exploration rates eps_i = base ** (1 + alpha * i / (N - 1))."""
  if num_actors == 1:
    return [base]
  return [base**(1 + alpha * i / (num_actors - 1)) for i in range(num_actors)]
