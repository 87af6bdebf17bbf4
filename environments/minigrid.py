"""MiniGrid (gymnasium API) as a dm_env, for learning results on CPU.

Exposes the egocentric 7x7x3 image view (object, colour, state channels) and
MiniGrid's discrete actions. Any registered MiniGrid id is accepted.
"""

from typing import Any, List

import dm_env
from dm_env import specs
import gymnasium
import minigrid  # Registers the MiniGrid-* ids with gymnasium.
import numpy as np

from behavior_transfer.environments import minigrid_events
from behavior_transfer.environments import names
from behavior_transfer.environments import tasks as tasks_lib
from behavior_transfer.environments import timesteps

del minigrid  # Imported for its registrations only.


def level_names() -> List[str]:
  """All MiniGrid environment ids registered with gymnasium."""
  return sorted(k for k in gymnasium.registry if k.startswith('MiniGrid-'))


def check_level(level: str) -> str:
  """Returns `level` if registered; otherwise raises listing close names."""
  return names.check_name('MiniGrid environment', level, level_names())


class MiniGridEnvironment(dm_env.Environment):
  """A MiniGrid level with a pluggable task reward."""

  def __init__(self,
               level: str,
               task: tasks_lib.TaskFn = tasks_lib.game_reward_task,
               seed: int = 0):
    self._env = gymnasium.make(check_level(level))
    self._task = task
    self._seed = seed
    self._seeded = False
    self._reset_next_step = True

  @property
  def simulator(self) -> Any:
    """The unwrapped MiniGrid environment, for tasks that read its state."""
    return self._env.unwrapped

  def reset(self) -> dm_env.TimeStep:
    # Seed once; later resets continue the same random stream, so a run is
    # reproducible from its seed while episodes still differ.
    if self._seeded:
      observation, _ = self._env.reset()
    else:
      observation, _ = self._env.reset(seed=self._seed)
      self._env.action_space.seed(self._seed)
      self._seeded = True
    self._reset_next_step = False
    self.last_game_reward = 0.
    return dm_env.restart(observation['image'])

  def step(self, action) -> dm_env.TimeStep:
    if self._reset_next_step:
      return self.reset()
    minigrid_events.before_step(self.simulator)
    observation, game_reward, terminated, truncated, _ = self._env.step(
        int(action))
    self.last_game_reward = float(game_reward)  # Before the task; for measures.
    minigrid_events.after_step(self.simulator, self.last_game_reward)
    reward = self._task(float(game_reward), self._env.unwrapped)
    image = observation['image']
    if terminated:
      self._reset_next_step = True
      return timesteps.termination(reward, image)
    if truncated:
      self._reset_next_step = True
      return timesteps.truncation(reward, image)
    return timesteps.transition(reward, image)

  def observation_spec(self) -> specs.Array:
    space = self._env.observation_space['image']
    return specs.BoundedArray(space.shape, np.uint8, 0, 255,
                              name='observation')

  def action_spec(self) -> specs.DiscreteArray:
    return specs.DiscreteArray(int(self._env.action_space.n), name='action')

  def reward_spec(self) -> specs.Array:
    return timesteps.reward_spec()

  def discount_spec(self) -> specs.BoundedArray:
    return timesteps.discount_spec()

  def close(self):
    self._env.close()
