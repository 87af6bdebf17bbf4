"""Per-episode measures of a policy: its return under every task, and how far it
explored, read from the base environment beneath the wrappers.

Exploration is the number of distinct MiniGrid cells the agent stood on, or the
number of distinct Montezuma's Revenge rooms (RAM byte 3, where the game keeps
the room index); other Atari games have no exploration measure here. On
multi-room MiniGrid levels also the rooms the agent stood inside
(`rooms_reached`) and whether one of them was the last, the goal's room
(`reached_last_room`, 0 or 1). On MiniGrid levels with doors the distinct
doors the agent opened (`doors_opened`), and on levels with keys, balls or
boxes the distinct objects it picked up (`objects_picked_up`).
"""

from typing import Any, Callable, Dict, List, Optional, Tuple

from acme import wrappers
from acme.utils import observers
import dm_env
import numpy as np

from behavior_transfer.environments import atari
from behavior_transfer.environments import minigrid
from behavior_transfer.environments import minigrid_events
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


def observers_for(environment: dm_env.Environment,
                  random_baseline: Optional[Dict[str, float]] = None
                  ) -> List[observers.EnvLoopObserver]:
  """[TaskReturnsAndExploration] for this project's environments (under any
  Acme wrappers); [] for environments it cannot read. With a
  `random_baseline` (from `random_baseline`) MiniGrid rows also say how many
  times a random policy's exploration the episode reached."""
  base = unwrap(environment)
  if isinstance(base, minigrid.MiniGridEnvironment):
    return [TaskReturnsAndExploration(base, 'minigrid', random_baseline)]
  if isinstance(base, atari.AtariEnvironment):
    return [TaskReturnsAndExploration(base, 'atari')]
  return []


class TaskReturnsAndExploration(observers.EnvLoopObserver):
  """Adds `return_<task>` for each task of the domain that applies to the
  level, and the exploration measure, to each episode's log row; with a
  random baseline also the episode's exploration in units of the random
  policy's and the most that could be on its layout."""

  def __init__(self, base: Any, domain: str,
               random_baseline: Optional[Dict[str, float]] = None):
    self._base = base
    self._random_baseline = random_baseline
    self._tasks = {
        name: tasks.get_task(domain, name)
        for name in tasks.applicable_task_names(domain, base.simulator)}
    self._metric = exploration_metric_name(base)
    is_minigrid = isinstance(base, minigrid.MiniGridEnvironment)
    self._has_rooms = is_minigrid and rooms.has_rooms(base.simulator)
    self._has_doors = is_minigrid and minigrid_events.has_doors(
        base.simulator)
    self._has_objects = is_minigrid and minigrid_events.has_pickable_objects(
        base.simulator)
    self._returns: Dict[str, float] = {}
    self._visited = set()
    self._rooms_visited = set()
    self._doors_opened = set()
    self._objects_picked_up = set()
    self._ceiling = float('nan')

  def observe_first(self, env: dm_env.Environment, timestep: dm_env.TimeStep):
    del env, timestep
    self._returns = {name: 0. for name in self._tasks}
    self._visited = {_position(self._base)}
    self._rooms_visited = set()
    self._doors_opened = set()
    self._objects_picked_up = set()
    self._visit_room()
    if self._random_baseline:
      self._ceiling = exploration_ratio(reachable(self._base.simulator),
                                        self._random_baseline)

  def observe(self, env: dm_env.Environment, timestep: dm_env.TimeStep,
              action: Any):
    del env, timestep, action
    game_reward, simulator = self._base.last_game_reward, self._base.simulator
    for name, task in self._tasks.items():
      self._returns[name] += task(game_reward, simulator)
    self._visited.add(_position(self._base))
    self._visit_room()
    if self._has_doors or self._has_objects:
      events = minigrid_events.last(simulator)
      if events.door_opened is not None:
        self._doors_opened.add(id(events.door_opened))
      if events.picked_up is not None:
        self._objects_picked_up.add(id(events.picked_up))

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
    if self._has_doors:
      metrics['doors_opened'] = float(len(self._doors_opened))
    if self._has_objects:
      metrics['objects_picked_up'] = float(len(self._objects_picked_up))
    if self._random_baseline:
      metrics['exploration_vs_random'] = exploration_ratio(
          metrics, self._random_baseline)
      metrics['exploration_ceiling'] = self._ceiling
    return metrics

  @property
  def columns(self):
    """The log columns this observer adds."""
    return tuple(f'return_{name}' for name in self._tasks) + (
        (self._metric,) if self._metric else ()) + (
            ('rooms_reached', 'reached_last_room') if self._has_rooms else ()
        ) + (('doors_opened',) if self._has_doors else ()) + (
            ('objects_picked_up',) if self._has_objects else ()) + (
                ('exploration_vs_random', 'exploration_ceiling')
                if self._random_baseline else ())


# How far an episode explored, by what the level has; the first present is the
# level's headline. A measure counts towards the ratio to a random policy only
# where the level has it.
EXPLORATION_MEASURES = ('rooms_reached', 'distinct_rooms', 'doors_opened',
                        'objects_picked_up', 'distinct_cells')
# A random policy that never opens a door counts as opening 0.05 per episode,
# so ratios stay finite.
_RATIO_FLOOR = 0.05


def exploration_ratios(measured: Dict[str, float],
                       random: Dict[str, float]) -> Dict[str, float]:
  """measured / random for each exploration measure both have."""
  return {name: measured[name] / max(random[name], _RATIO_FLOOR)
          for name in EXPLORATION_MEASURES
          if name in measured and name in random}


def exploration_ratio(measured: Dict[str, float],
                      random: Dict[str, float]) -> float:
  """How many times a random policy's exploration `measured` reaches: the
  best ratio over the level's measures, but never more than the ratio of
  distinct cells (or rooms) times the best other one allows: a policy that
  picks a key up and stands still does not explore. NaN without measures."""
  ratios = exploration_ratios(measured, random)
  if not ratios:
    return float('nan')
  best = max(ratios.values())
  coverage = ratios.get('distinct_cells', ratios.get('distinct_rooms', best))
  return best if coverage >= 1 else min(best, coverage)


def reachable(simulator: Any) -> Dict[str, float]:
  """The most each exploration measure can reach in the current episode of a
  MiniGrid `simulator`: the cells the agent could stand on in one episode
  (rooms.most_cells_visited), the doors and objects it could reach from its
  start (rooms.reachable_area) and every room; no doors or objects
  where the level's actions cannot toggle or pick up (Dynamic-Obstacles has
  three actions). A policy exploring nothing beyond these cannot exceed
  `exploration_ratio(reachable, random)` times a random policy."""
  area = rooms.reachable_area(
      simulator, tuple(int(x) for x in simulator.agent_pos))
  num_actions = simulator.action_space.n
  placed = [simulator.grid.get(*cell) for cell in area]
  doors = sum(obj is not None and obj.type == 'door' for obj in placed) * (
      num_actions > simulator.actions.toggle)
  pickable = 0
  objects = placed if num_actions > simulator.actions.pickup else []
  while objects:  # Also what boxes hold.
    obj = objects.pop()
    if obj is not None:
      pickable += obj.can_pickup()
      objects.append(obj.contains)
  most = {'distinct_cells': float(rooms.most_cells_visited(simulator, area))}
  if rooms.has_rooms(simulator):
    most['rooms_reached'] = float(len(simulator.rooms))
  if minigrid_events.has_doors(simulator):
    most['doors_opened'] = float(doors)
  if minigrid_events.has_pickable_objects(simulator):
    most['objects_picked_up'] = float(pickable)
  return most


def reachable_measures(environment: dm_env.Environment, num_episodes: int
                       ) -> Optional[Dict[str, float]]:
  """`reachable` averaged over the layouts of the next `num_episodes`
  episodes of a MiniGrid `environment`; None elsewhere. MiniGrid draws a
  layout at reset, so a fresh environment made with the same seed shows the
  layouts a policy meets over its first `num_episodes` episodes."""
  base = unwrap(environment)
  if not isinstance(base, minigrid.MiniGridEnvironment):
    return None
  rows = []
  for _ in range(num_episodes):
    environment.reset()
    rows.append(reachable(base.simulator))
  return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


Step = Callable[[Any, Any], Tuple[int, Any]]  # (observation, state) -> ...


def mean_episode_measures(environment: dm_env.Environment, domain: str,
                          step: Step, initial_state: Callable[[], Any],
                          num_episodes: int, max_steps: Optional[int] = None
                          ) -> Dict[str, float]:
  """Mean per-episode return under every task and exploration of the policy
  `step`; episodes end at the level's end or after `max_steps`."""
  observer = TaskReturnsAndExploration(unwrap(environment), domain)
  rows = []
  for _ in range(num_episodes):
    timestep = environment.reset()
    observer.observe_first(environment, timestep)
    state = initial_state()
    steps = 0
    while not timestep.last() and steps != max_steps:
      steps += 1
      action, state = step(timestep.observation, state)
      timestep = environment.step(np.int32(action))
      observer.observe(environment, timestep, action)
    rows.append(observer.get_metrics())
  return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def random_policy_measures(environment: dm_env.Environment, domain: str,
                           num_episodes: int, seed: int = 0,
                           max_steps: Optional[int] = None
                           ) -> Dict[str, float]:
  """`mean_episode_measures` of a uniformly random policy: the yardstick of
  pre-training."""
  rng = np.random.RandomState(seed)
  num_actions = environment.action_spec().num_values
  return mean_episode_measures(
      environment, domain, lambda _, state: (rng.randint(num_actions), state),
      lambda: None, num_episodes, max_steps)


def random_baseline(environment: dm_env.Environment, num_episodes: int = 20,
                    seed: int = 0) -> Optional[Dict[str, float]]:
  """A random policy's mean measures on a MiniGrid `environment`, for
  `observers_for`; None elsewhere (an Atari episode of a random policy runs
  up to 108,000 frames)."""
  if not isinstance(unwrap(environment), minigrid.MiniGridEnvironment):
    return None
  return random_policy_measures(environment, 'minigrid', num_episodes, seed)
