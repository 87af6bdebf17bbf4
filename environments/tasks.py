"""Reward functions ("tasks") over shared dynamics.

The paper transfers one pre-trained policy to many tasks that share dynamics and
differ only in reward. Here an environment is built from (dynamics, task): the
dynamics simulate, and the task turns what happened on a step into the reward the
agent sees. A task is one small function

    reward = task(game_reward, simulator)

where `game_reward` is the reward the underlying game produced and `simulator` is
the environment's raw simulator (an `ale_py.ALEInterface` for Atari, the
unwrapped `minigrid` environment for MiniGrid), for tasks that read state.
Register a new task with `@register_task(domain, name)`; a task that makes
sense only on some levels of its domain says so with `applies`.
"""

import difflib
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from behavior_transfer.environments import minigrid_events
from behavior_transfer.environments import rooms

TaskFn = Callable[[float, Any], float]
AppliesFn = Callable[[Any], bool]  # simulator -> does the task apply?

ALL_DOMAINS = '*'
_TASKS: Dict[str, Dict[str, TaskFn]] = {}
_APPLIES: Dict[Tuple[str, str], AppliesFn] = {}


def register_task(domain: str, name: str,
                  applies: Optional[AppliesFn] = None
                  ) -> Callable[[TaskFn], TaskFn]:
  """Registers `name` as a task of `domain` ('atari', 'minigrid' or '*').

  `applies(simulator)`, if given, says whether the task makes sense on a
  level (judged from its raw simulator before the first reset); by default a
  task applies to every level of its domain.
  """

  def decorator(fn: TaskFn) -> TaskFn:
    domain_tasks = _TASKS.setdefault(domain, {})
    if name in domain_tasks:
      raise ValueError(f'Task {name!r} is already registered for {domain!r}.')
    domain_tasks[name] = fn
    if applies is not None:
      _APPLIES[(domain, name)] = applies
    return fn

  return decorator


def applies(domain: str, name: str, simulator: Any) -> bool:
  """Whether task `name` makes sense on the level `simulator` simulates."""
  check = _APPLIES.get((domain, name)) or _APPLIES.get((ALL_DOMAINS, name))
  return check is None or bool(check(simulator))


def applicable_task_names(domain: str, simulator: Any) -> List[str]:
  """The tasks of `domain` that make sense on this level, sorted."""
  return [name for name in task_names(domain)
          if applies(domain, name, simulator)]


def task_names(domain: str) -> Sequence[str]:
  """All task names valid for `domain`, sorted."""
  return sorted({**_TASKS.get(ALL_DOMAINS, {}), **_TASKS.get(domain, {})})


def get_task(domain: str, name: str) -> TaskFn:
  """Looks a task up; an unknown name raises an error listing the valid ones."""
  tasks = {**_TASKS.get(ALL_DOMAINS, {}), **_TASKS.get(domain, {})}
  if name not in tasks:
    close = difflib.get_close_matches(name, tasks, n=3)
    hint = f' Did you mean {", ".join(close)}?' if close else ''
    raise ValueError(f'Unknown task {name!r} for {domain}.{hint} '
                     f'Valid tasks: {", ".join(sorted(tasks))}.')
  return tasks[name]


@register_task(ALL_DOMAINS, 'game')
def game_reward_task(game_reward: float, simulator: Any) -> float:
  """The environment's own reward."""
  del simulator
  return game_reward


@register_task(ALL_DOMAINS, 'none')
def reward_free_task(game_reward: float, simulator: Any) -> float:
  """No reward at all: the setting of reward-free pre-training."""
  del game_reward, simulator
  return 0.0


# Transfer tasks over MiniGrid dynamics, mirroring the paper's modified games:
# the game's own sparse goal reward ('game'), harder or easier sparse tasks
# and a deceptive one.


@register_task('minigrid', 'goal_in_half_time')
def goal_in_half_time_task(game_reward: float, simulator: Any) -> float:
  """Harder sparse: the goal pays only if reached within half the step limit."""
  if simulator.step_count <= simulator.max_steps // 2:
    return game_reward
  return 0.0


FIRST_ROOM_LURE = 0.01


@register_task('minigrid', 'deceptive_first_room', applies=rooms.has_rooms)
def deceptive_first_room_task(game_reward: float, simulator: Any) -> float:
  """Deceptive: the goal reward, plus a small reward for every step spent in
  the starting room, which pulls away from the goal. Staying put all episode
  earns at most FIRST_ROOM_LURE x step limit (0.4 on MultiRoom-N2-S4), less
  than reaching the goal quickly (about 0.8). For multi-room levels."""
  if not getattr(simulator, 'rooms', None):
    raise ValueError('The deceptive_first_room task needs a multi-room MiniGrid '
                     'level (e.g. MiniGrid-MultiRoom-N2-S4-v0).')
  in_first_room = rooms.room_index(simulator) == 0
  return game_reward + (FIRST_ROOM_LURE if in_first_room else 0.0)


def _pays_once(simulator: Any, name: str,
               happened: Callable[[], bool]) -> float:
  """1.0 on the step of an episode when `happened()` first holds, else 0.0.
  Remembers that step on the simulator, per episode (MiniGrid builds a new
  grid at every reset), so calling the task again on the same step (as the
  measures do) answers the same."""
  key = f'_paid_step_{name}'
  grid, step = getattr(simulator, key, (None, None))
  if grid is not simulator.grid:
    if not happened():
      return 0.0
    step = simulator.step_count
    setattr(simulator, key, (simulator.grid, step))
  return float(step == simulator.step_count)


def _first_reached(simulator: Any, room: int, name: str) -> float:
  """1.0 on the step of an episode when the agent first stands inside room
  `room` or a later one, else 0.0."""
  def inside():
    index = rooms.room_index(simulator)
    return index is not None and index >= room
  return _pays_once(simulator, name, inside)


def _has_three_rooms(simulator: Any) -> bool:
  return rooms.has_rooms(simulator) and getattr(simulator, 'minNumRooms', 0) >= 3


@register_task('minigrid', 'reach_third_room', applies=_has_three_rooms)
def reach_third_room_task(game_reward: float, simulator: Any) -> float:
  """Sparse, aligned with an explorer: +1 the first time in an episode the
  agent stands inside the third room (behind two doors) or beyond."""
  del game_reward
  return _first_reached(simulator, 2, 'third_room')


@register_task('minigrid', 'reach_last_room', applies=rooms.has_rooms)
def reach_last_room_task(game_reward: float, simulator: Any) -> float:
  """Harder sparse: +1 the first time in an episode the agent stands inside
  the last room, the goal's (behind every door)."""
  del game_reward
  return _first_reached(simulator, len(simulator.rooms) - 1, 'last_room')


def _past_a_door(simulator: Any) -> bool:
  """Whether the agent stands outside its start area (rooms.start_area), not
  in a doorway: it has gone through a door this episode."""
  start = minigrid_events.start_position(simulator)
  if start is None:
    return False
  grid, area = getattr(simulator, '_start_area', (None, None))
  if grid is not simulator.grid:  # A new episode.
    area = rooms.start_area(simulator, start)
    setattr(simulator, '_start_area', (simulator.grid, area))
  position = tuple(simulator.agent_pos)
  standing_on = simulator.grid.get(*position)
  return position not in area and (standing_on is None or
                                   standing_on.type != 'door')


@register_task('minigrid', 'through_door', applies=minigrid_events.has_doors)
def through_door_task(game_reward: float, simulator: Any) -> float:
  """Sparse, the first event of every level with doors: +1 the first time in
  an episode the agent stands past a door (behind DoorKey's locked door, in
  MultiRoom's second room). Unlike a level's goal, it does not end the
  level's episodes, so a reward-free pi_p can have it in its behaviour."""
  del game_reward
  return _pays_once(simulator, 'through_door',
                    lambda: _past_a_door(simulator))


# The paper's task families (its figure 5) over MiniGrid dynamics: a sparse
# "easy" task that pays only for the event that matters, and its "hard" twin
# that also penalises events the agent must go through on the way. The paper's
# H.E.R.O. hard task pays -300 per dynamited wall against +1000 per rescued
# miner; here every door or box opened and every object picked up on the way
# costs PASSAGE_PENALTY against +1 for the goal. Any penalty makes avoiding the
# event the locally best policy; the suite's levels need at most three such
# events on the way, so the whole way still pays (1 - 3 x 0.2 > 0) more than
# staying put (0). The paper's penalised events happen once each (a pac-dot
# is eaten once, a wall blown up once); a MiniGrid key can be dropped and
# picked up again, a door closed and opened again. The `_penalised` twins
# charge every repetition; the `_penalised_once` twins charge each object's
# first passage in an episode only, as the paper's games do.

PASSAGE_PENALTY = 0.2


@register_task('minigrid', 'success')
def success_task(game_reward: float, simulator: Any) -> float:
  """Sparse easy: +1 when the level's mission succeeds (reaching the goal,
  fetching the object, opening the door), whatever the time it took."""
  del simulator
  return float(game_reward > 0)


def _passage_cost(simulator: Any) -> float:
  return PASSAGE_PENALTY * minigrid_events.last(simulator).passages


def _first_passage_cost(simulator: Any) -> float:
  return PASSAGE_PENALTY * minigrid_events.last(simulator).first_passages


@register_task('minigrid', 'success_penalised',
               applies=minigrid_events.has_passages)
def success_penalised_task(game_reward: float, simulator: Any) -> float:
  """Hard twin of `success`: also -PASSAGE_PENALTY for every door or box
  opened and every object picked up on the way (the fetched object itself
  is not penalised). For levels with doors, keys or boxes."""
  return success_task(game_reward, simulator) - _passage_cost(simulator)


@register_task('minigrid', 'reach_third_room_penalised',
               applies=_has_three_rooms)
def reach_third_room_penalised_task(game_reward: float,
                                    simulator: Any) -> float:
  """Hard twin of `reach_third_room`: also -PASSAGE_PENALTY for every door
  opened (two stand on the way to the third room)."""
  return (reach_third_room_task(game_reward, simulator) -
          _passage_cost(simulator))


@register_task('minigrid', 'success_penalised_once',
               applies=minigrid_events.has_passages)
def success_penalised_once_task(game_reward: float, simulator: Any) -> float:
  """Hard twin of `success` as the paper's games penalise: -PASSAGE_PENALTY
  the first time in an episode each door or box is opened and each object
  picked up; repeats are free."""
  return success_task(game_reward, simulator) - _first_passage_cost(simulator)


@register_task('minigrid', 'reach_third_room_penalised_once',
               applies=_has_three_rooms)
def reach_third_room_penalised_once_task(game_reward: float,
                                         simulator: Any) -> float:
  """Hard twin of `reach_third_room` as the paper's games penalise:
  -PASSAGE_PENALTY the first time in an episode each door is opened."""
  return (reach_third_room_task(game_reward, simulator) -
          _first_passage_cost(simulator))


@register_task('minigrid', 'through_door_penalised',
               applies=minigrid_events.has_doors)
def through_door_penalised_task(game_reward: float, simulator: Any) -> float:
  """Hard twin of `through_door`: also -PASSAGE_PENALTY for every door or
  box opened and every object picked up (the key of a locked door)."""
  return through_door_task(game_reward, simulator) - _passage_cost(simulator)
