"""How a program is laid out and operated, apart from what the agent learns.

An agent's config (`agents/<name>/config.py`) holds its hyperparameters;
`ProgramConfig` holds how many actors and environments act, how often nodes
checkpoint, when a run counts as stalled. A preset name (standard, paper,
tiny) picks one of each for a domain.
"""

import dataclasses
from typing import Dict, FrozenSet

from behavior_transfer.agents.r2d2 import config as r2d2_config

# Marks a setting that may differ between the launches of one run (a resumed
# run may checkpoint more often, for instance); the others are fixed when the
# run starts.
_MAY_CHANGE = {'may_change_on_resume': True}


@dataclasses.dataclass
class ProgramConfig:
  """The program's nodes and their operation."""
  num_actors: int = 8
  # Environments each actor steps in lockstep, with one batched network call
  # per step: a node gathers K times the experience for little more cost.
  envs_per_actor: int = 1
  # Pause between evaluation episodes (frees a core on small machines).
  evaluation_pause_seconds: float = dataclasses.field(
      default=0.0, metadata=_MAY_CHANGE)
  # Counter and learner save at start, every `checkpoint_seconds` and when
  # stopped; a run killed at any moment loses at most one interval.
  checkpoint_seconds: float = dataclasses.field(
      default=300.0, metadata=_MAY_CHANGE)
  # Also checkpoint the replay tables (Reverb's checkpointer, same interval),
  # so a resumed run does not start from an empty buffer. Costs disk: the
  # whole replay memory.
  checkpoint_replay: bool = dataclasses.field(default=False,
                                              metadata=_MAY_CHANGE)
  # No actor and no learner progress for this long ends the run, reporting
  # what each node was waiting on.
  stall_seconds: float = dataclasses.field(default=300.0, metadata=_MAY_CHANGE)
  # Variable serving: actor i fetches the learner's variables from cacher
  # i mod num_cachers (the evaluator from the first), and each cacher from
  # the learner when its copy is older than cacher_refresh_seconds. More
  # cachers spread many actors' fetches over more serving processes.
  num_cachers: int = dataclasses.field(default=1, metadata=_MAY_CHANGE)
  cacher_refresh_seconds: float = dataclasses.field(default=2.0,
                                                    metadata=_MAY_CHANGE)

  def __post_init__(self):
    if self.num_actors < 1:
      raise ValueError(f'A program needs at least one actor (num_actors='
                       f'{self.num_actors}).')
    if self.envs_per_actor < 1:
      raise ValueError('An actor needs at least one environment '
                       f'(envs_per_actor={self.envs_per_actor}).')
    if self.num_cachers < 1:
      raise ValueError('A program needs at least one cacher (num_cachers='
                       f'{self.num_cachers}).')

  @property
  def num_environments(self) -> int:
    """Acting environments over all actors: the exploration ladder's length."""
    return self.num_actors * self.envs_per_actor

  @classmethod
  def settings_that_may_change(cls) -> FrozenSet[str]:
    """Fields a resumed run may set differently from its first launch."""
    return frozenset(f.name for f in dataclasses.fields(cls)
                     if f.metadata.get('may_change_on_resume'))


# Small machines: checkpoints often, stalls noticed sooner, a pause between
# evaluation episodes.
_SMALL_MACHINE = dict(evaluation_pause_seconds=5.0, checkpoint_seconds=15.0,
                      stall_seconds=120.0)

PRESETS: Dict[str, Dict[str, ProgramConfig]] = {
    'atari': {
        'standard': ProgramConfig(),
        # The papers' 256 single-environment actors: a cluster job (replay
        # alone holds ~42 GiB when full); launch it with
        # --launch_type=vertex_ai.
        'paper': ProgramConfig(num_actors=256),
        'tiny': ProgramConfig(num_actors=1, **_SMALL_MACHINE),
    },
    'minigrid': {
        'standard': ProgramConfig(num_actors=2, envs_per_actor=16,
                                  **_SMALL_MACHINE),
    },
}


def preset(domain: str, name: str = 'standard', **fields) -> ProgramConfig:
  """A fresh copy of a domain's program preset, with `fields` replaced."""
  return dataclasses.replace(
      r2d2_config.lookup_preset(PRESETS, domain, name), **fields)
