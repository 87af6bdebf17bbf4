"""Environments as dm_env: Atari over ale-py and MiniGrid, built from
(dynamics, task) so that many reward functions share one dynamics."""

import dataclasses

import dm_env

from behavior_transfer.environments import atari
from behavior_transfer.environments import atari_tasks  # Registers them.
from behavior_transfer.environments import minigrid
from behavior_transfer.environments import oar
from behavior_transfer.environments import tasks
from behavior_transfer.environments.names import DOMAINS
from behavior_transfer.environments.names import EnvironmentName
from behavior_transfer.environments.names import Name
from behavior_transfer.environments.names import parse


def validate(name: Name, task: str = 'game') -> None:
  """Raises a helpful error for unknown environment or task names, and for a
  task that does not apply to the level."""
  domain, level = dataclasses.astuple(parse(name))
  if domain == 'atari':
    atari.check_game(level)
  else:
    minigrid.check_level(level)
  tasks.get_task(domain, task)
  environment = make_environment(name, task, oar_wrapper=False)
  simulator = environment.simulator
  environment.close()
  if not tasks.applies(domain, task, simulator):
    raise ValueError(
        f'Task {task!r} does not apply to {name}. Tasks for this level: '
        f'{", ".join(tasks.applicable_task_names(domain, simulator))}.')


def make_environment(name: Name,
                     task: str = 'game',
                     seed: int = 0,
                     oar_wrapper: bool = True,
                     **kwargs) -> dm_env.Environment:
  """Builds the environment `name` under reward function `task`.

  Args:
    name: '<domain>:<name>', e.g. 'atari:pong' or
      'minigrid:MiniGrid-Empty-5x5-v0', or its `EnvironmentName`.
    task: a task registered for the domain ('game', 'none', ...).
    seed: seeds the environment's randomness (no-ops, layouts).
    oar_wrapper: wrap with our ObservationActionRewardWrapper (Acme's, valid
      also when step() starts a new episode), so that the recurrent
      Q-network sees observation, previous action and previous reward.
    **kwargs: passed to the domain's environment class.
  """
  domain, level = dataclasses.astuple(parse(name))
  task_fn = tasks.get_task(domain, task)
  if domain == 'atari':
    environment = atari.AtariEnvironment(level, task_fn, seed=seed, **kwargs)
  else:
    environment = minigrid.MiniGridEnvironment(
        level, task_fn, seed=seed, **kwargs)
  # Both classes emit float32 rewards and discounts themselves, as the replay
  # signature expects (`timesteps`), so Acme's SinglePrecisionWrapper would
  # only add a tree traversal to every step.
  if oar_wrapper:
    environment = oar.ObservationActionRewardWrapper(environment)
  return environment
