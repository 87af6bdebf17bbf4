"""Environments as dm_env: Atari over ale-py and MiniGrid, built from
(dynamics, task) so that many reward functions share one dynamics."""

from typing import Tuple

import dm_env

from acme import wrappers

from behavior_transfer.environments import atari
from behavior_transfer.environments import atari_tasks  # Registers them.
from behavior_transfer.environments import minigrid
from behavior_transfer.environments import oar
from behavior_transfer.environments import tasks

DOMAINS = ('atari', 'minigrid')


def parse_environment_name(name: str) -> Tuple[str, str]:
  """Splits 'atari:pong' or 'minigrid:MiniGrid-Empty-5x5-v0' into its parts."""
  domain, sep, level = name.partition(':')
  if not sep or domain not in DOMAINS or not level:
    raise ValueError(
        f'Environment {name!r} must be "<domain>:<name>" with domain one of '
        f'{", ".join(DOMAINS)}, e.g. "atari:montezuma_revenge" or '
        f'"minigrid:MiniGrid-DoorKey-5x5-v0".')
  return domain, level


def validate(name: str, task: str = 'game') -> None:
  """Raises a helpful error for unknown environment or task names, and for a
  task that does not apply to the level."""
  domain, level = parse_environment_name(name)
  if domain == 'atari':
    atari.check_game(level)
  else:
    minigrid.check_level(level)
  tasks.get_task(domain, task)
  environment = make_environment(name, task, oar_wrapper=False)
  simulator = environment.environment.simulator  # Beneath SinglePrecision.
  environment.close()
  if not tasks.applies(domain, task, simulator):
    raise ValueError(
        f'Task {task!r} does not apply to {name}. Tasks for this level: '
        f'{", ".join(tasks.applicable_task_names(domain, simulator))}.')


def make_environment(name: str,
                     task: str = 'game',
                     seed: int = 0,
                     oar_wrapper: bool = True,
                     **kwargs) -> dm_env.Environment:
  """Builds the environment `name` under reward function `task`.

  Args:
    name: '<domain>:<name>', e.g. 'atari:pong' or 'minigrid:MiniGrid-Empty-5x5-v0'.
    task: a task registered for the domain ('game', 'none', ...).
    seed: seeds the environment's randomness (no-ops, layouts).
    oar_wrapper: wrap with our ObservationActionRewardWrapper (Acme's, valid
      also when step() starts a new episode), so that the recurrent
      Q-network sees observation, previous action and previous reward.
    **kwargs: passed to the domain's environment class.
  """
  domain, level = parse_environment_name(name)
  task_fn = tasks.get_task(domain, task)
  if domain == 'atari':
    environment = atari.AtariEnvironment(level, task_fn, seed=seed, **kwargs)
  else:
    environment = minigrid.MiniGridEnvironment(
        level, task_fn, seed=seed, **kwargs)
  # float32 rewards and discounts, as the replay signature expects.
  environment = wrappers.SinglePrecisionWrapper(environment)
  if oar_wrapper:
    environment = oar.ObservationActionRewardWrapper(environment)
  return environment
