"""MiniGrid (gymnasium API) as a dm_env, for learning results on CPU.

Exposes the egocentric 7x7x3 image view (object, colour, state channels) and
MiniGrid's discrete actions. Any level the minigrid package registers is
accepted: its MiniGrid-* ids and its BabyAI-* ones (whose mission text the
agent does not see).
"""

import contextlib
import importlib.util
import io
import os
import types
from typing import Any, List, Optional

import dm_env
from dm_env import specs
import gymnasium
import minigrid  # Registers the MiniGrid-* ids with gymnasium.
from minigrid import minigrid_env
from minigrid.core import roomgrid
import numpy as np

from behavior_transfer.environments import minigrid_events
from behavior_transfer.environments import names
from behavior_transfer.environments import tasks as tasks_lib
from behavior_transfer.environments import timesteps

# The families of levels the minigrid package registers with gymnasium.
_PREFIXES = ('MiniGrid-', 'BabyAI-')
_WFC_PREFIX = 'MiniGrid-WFC-'
_WFC_PATTERNS = os.path.join(os.path.dirname(minigrid.__file__), 'envs', 'wfc',
                             'patterns')
# Placements of the agent in a room before its layout is given up. A layout
# with any free cell and direction not facing an object fails 1,000 random
# placements with a chance below e^-27.
_MAX_AGENT_PLACEMENTS = 1000
# Layouts in a row whose generation may fail before a level is given up.
_MAX_LAYOUTS = 100


def _unbuildable_reason(level: str) -> Optional[str]:
  """Why a registered level cannot be built by this install, if it cannot.

  MiniGrid registers its wave-function-collapse levels whatever is
  installed, but they need networkx and imageio (the `minigrid[wfc]` extra)
  and the pattern images they load, which minigrid 3.1.0's wheel does not
  ship; gymnasium.make would fail with advice that does not fix it.
  """
  if not level.startswith(_WFC_PREFIX):
    return None
  missing = [m for m in ('networkx', 'imageio')
             if importlib.util.find_spec(m) is None]
  if not os.path.isdir(_WFC_PATTERNS):
    missing.append(f'the pattern images ({_WFC_PATTERNS})')
  if not missing:
    return None
  return (f'MiniGrid level {level!r} cannot be built with the installed '
          f'minigrid: its wave-function-collapse levels need '
          f'{", ".join(missing)}, which this install lacks (minigrid 3.1.0\'s '
          f'wheel ships no pattern images). Use another MiniGrid level.')


def _registered() -> List[str]:
  """The environment ids the minigrid package registers with gymnasium."""
  return [k for k in gymnasium.registry if k.startswith(_PREFIXES)]


def level_names() -> List[str]:
  """The minigrid package's environment ids (MiniGrid-*, BabyAI-*) that this
  install can build."""
  return names.usable(_registered(), _unbuildable_reason)


def check_level(level: str) -> str:
  """Returns `level` if it can be built; otherwise raises saying why, or
  listing close names."""
  return names.check_usable('MiniGrid environment', level, _registered(),
                            _unbuildable_reason)


def _place_agent_in_room(simulator: roomgrid.RoomGrid,
                         i: Optional[int] = None, j: Optional[int] = None,
                         rand_dir: bool = True) -> np.ndarray:
  """`RoomGrid.place_agent` that gives a layout up instead of looping forever.

  minigrid 3.1.0 draws the agent's cell and direction in a room until it
  faces no object, without bound: in a room whose free cells all face
  objects on every side (BabyAI-SynthS5R2-v0 makes one at seed 3) reset
  never returns. This draws the same random numbers in the same order, and
  after `_MAX_AGENT_PLACEMENTS` draws raises RecursionError, minigrid's own
  signal that rejection sampling failed: BabyAI levels then generate another
  layout, and `MiniGridEnvironment.reset` does for the others.
  """
  i = simulator._rand_int(0, simulator.num_cols) if i is None else i  # pylint: disable=protected-access
  j = simulator._rand_int(0, simulator.num_rows) if j is None else j  # pylint: disable=protected-access
  room = simulator.room_grid[j][i]
  for _ in range(_MAX_AGENT_PLACEMENTS):
    minigrid_env.MiniGridEnv.place_agent(simulator, room.top, room.size,
                                         rand_dir, max_tries=1000)
    front = simulator.grid.get(*simulator.front_pos)
    if front is None or front.type == 'wall':
      return simulator.agent_pos
  raise RecursionError(
      f'no cell of room {(i, j)} lets the agent start facing no object')


class MiniGridEnvironment(dm_env.Environment):
  """A MiniGrid level with a pluggable task reward."""

  def __init__(self,
               level: str,
               task: tasks_lib.TaskFn = tasks_lib.game_reward_task,
               seed: int = 0):
    self._env = gymnasium.make(check_level(level))
    # Read by the task and the measures on every step; gymnasium's
    # `unwrapped` walks the wrappers each time.
    self._simulator = self._env.unwrapped
    if isinstance(self._simulator, roomgrid.RoomGrid):
      self._simulator.place_agent = types.MethodType(_place_agent_in_room,
                                                     self._simulator)
    self._level = level
    self._babyai = level.startswith('BabyAI-')
    self._task = task
    self._seed = seed
    self._seeded = False
    self._reset_next_step = True

  @property
  def simulator(self) -> Any:
    """The unwrapped MiniGrid environment, for tasks that read its state."""
    return self._simulator

  def reset(self) -> dm_env.TimeStep:
    # Seed once; later resets continue the same random stream, so a run is
    # reproducible from its seed while episodes still differ.
    # BabyAI prints each layout it rejects while generating one.
    with (contextlib.redirect_stdout(io.StringIO()) if self._babyai else
          contextlib.nullcontext()):
      observation = self._new_layout()
    self._reset_next_step = False
    self.last_game_reward = 0.
    return dm_env.restart(observation['image'])

  def _new_layout(self) -> Any:
    """Resets the level; a layout whose generation fails (RecursionError,
    see `_place_agent_in_room`) is replaced by the next one of the stream."""
    for _ in range(_MAX_LAYOUTS):
      try:
        if self._seeded:
          observation, _ = self._env.reset()
        else:
          self._seeded = True  # A failed first layout still seeded the stream.
          self._env.action_space.seed(self._seed)
          observation, _ = self._env.reset(seed=self._seed)
        return observation
      except RecursionError:
        continue
    raise RuntimeError(
        f'MiniGrid level {self._level!r} failed to generate a '
        f'layout {_MAX_LAYOUTS} times in a row; use another level.')

  def step(self, action) -> dm_env.TimeStep:
    if self._reset_next_step:
      return self.reset()
    minigrid_events.before_step(self.simulator)
    observation, game_reward, terminated, truncated, _ = self._env.step(
        int(action))
    self.last_game_reward = float(game_reward)  # Before the task; for measures.
    minigrid_events.after_step(self.simulator, self.last_game_reward)
    reward = self._task(float(game_reward), self._simulator)
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
