"""Per-episode measures of a policy: its return under every task, and how far it
explored, read from the base environment beneath the wrappers.

Exploration is the number of distinct MiniGrid cells the agent stood on, or the
number of distinct Montezuma's Revenge rooms (RAM byte 3, where the game keeps
the room index); other Atari games have no exploration measure here. On
multi-room MiniGrid levels also the rooms the agent stood inside
(`rooms_reached`) and whether one of them was the last, the goal's room
(`reached_last_room`, 0 or 1).
"""

from typing import Any, Dict, List, Optional

from acme import wrappers
from acme.utils import observers
import dm_env

from behavior_transfer.environments import atari
from behavior_transfer.environments import minigrid
from behavior_transfer.environments import rooms
from behavior_transfer.environments import tasks

_MONTEZUMA_ROOM_RAM_INDEX = 3


def unwrap(environment: dm_env.Environment) -> dm_env.Environment:
  """The base environment beneath Acme wrappers."""
  while isinstance(environment, wrappers.EnvironmentWrapper):
    environment = environment.environment
  return environment


def _position(base: Any) -> Optional[Any]:
  if isinstance(base, minigrid.MiniGridEnvironment):
    return tuple(int(x) for x in base.simulator.agent_pos)
  if isinstance(base, atari.AtariEnvironment) and base.game == 'montezuma_revenge':
    return int(base.simulator.getRAM()[_MONTEZUMA_ROOM_RAM_INDEX])
  return None


def exploration_metric_name(base: Any) -> Optional[str]:
  if isinstance(base, minigrid.MiniGridEnvironment):
    return 'distinct_cells'
  if _position(base) is not None:
    return 'distinct_rooms'
  return None


def observers_for(environment: dm_env.Environment
                  ) -> List[observers.EnvLoopObserver]:
  """[TaskReturnsAndExploration] for this project's environments (under any
  Acme wrappers); [] for environments it cannot read."""
  base = unwrap(environment)
  if isinstance(base, minigrid.MiniGridEnvironment):
    return [TaskReturnsAndExploration(base, 'minigrid')]
  if isinstance(base, atari.AtariEnvironment):
    return [TaskReturnsAndExploration(base, 'atari')]
  return []


class TaskReturnsAndExploration(observers.EnvLoopObserver):
  """Adds `return_<task>` for each task of the domain that applies to the
  level, and the exploration measure, to each episode's log row."""

  def __init__(self, base: Any, domain: str):
    self._base = base
    self._tasks = {
        name: tasks.get_task(domain, name)
        for name in tasks.applicable_task_names(domain, base.simulator)}
    self._metric = exploration_metric_name(base)
    self._has_rooms = (isinstance(base, minigrid.MiniGridEnvironment) and
                       rooms.has_rooms(base.simulator))
    self._returns: Dict[str, float] = {}
    self._visited = set()
    self._rooms_visited = set()

  def observe_first(self, env: dm_env.Environment, timestep: dm_env.TimeStep):
    del env, timestep
    self._returns = {name: 0. for name in self._tasks}
    self._visited = {_position(self._base)}
    self._rooms_visited = set()
    self._visit_room()

  def observe(self, env: dm_env.Environment, timestep: dm_env.TimeStep,
              action: Any):
    del env, timestep, action
    game_reward, simulator = self._base.last_game_reward, self._base.simulator
    for name, task in self._tasks.items():
      self._returns[name] += task(game_reward, simulator)
    self._visited.add(_position(self._base))
    self._visit_room()

  def _visit_room(self):
    if self._has_rooms:
      self._rooms_visited.add(rooms.room_index(self._base.simulator))

  def get_metrics(self) -> Dict[str, float]:
    metrics = {f'return_{name}': value for name, value in self._returns.items()}
    if self._metric:
      metrics[self._metric] = float(len(self._visited))
    if self._has_rooms:
      reached = self._rooms_visited - {None}
      last_room = len(self._base.simulator.rooms) - 1
      metrics['rooms_reached'] = float(len(reached))
      metrics['reached_last_room'] = float(last_room in reached)
    return metrics

  @property
  def columns(self):
    """The log columns this observer adds."""
    return tuple(f'return_{name}' for name in self._tasks) + (
        (self._metric,) if self._metric else ()) + (
            ('rooms_reached', 'reached_last_room') if self._has_rooms else ())
