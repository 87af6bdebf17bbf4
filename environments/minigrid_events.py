"""What happened on a MiniGrid step: doors opened, objects picked up, boxes
opened, and whether the mission succeeded.

Tasks that reward or penalise these events (the hard twins of the sparse
tasks) and the exploration measures read them. Every MiniGrid interaction acts
on the cell in front of the agent, so the environment records that cell and
what the agent carries just before each step (`before_step`) and compares
after it (`after_step`); the result is kept on the simulator until the next
step, so every task and measure that asks about a step gets the same answer.
"""

import contextlib
import dataclasses
import functools
import io
from typing import Any, Dict, Optional, Sequence, Set, Tuple

import gymnasium
from minigrid.core import world_object

_BEFORE = '_bt_before_step'
_EVENTS = '_bt_step_events'
_PASSED = '_bt_passed_this_episode'
_START = '_bt_start_position'


@dataclasses.dataclass(frozen=True)
class StepEvents:
  """The events of one step. `picked_up` and `door_opened` name the object
  (by identity), so per-episode measures can count distinct ones."""
  door_opened: Optional[world_object.Door] = None
  picked_up: Optional[world_object.WorldObj] = None
  box_opened: bool = False
  succeeded: bool = False
  # The objects the step passed through on the way to the level's goal (a
  # door or box opened, something picked up, but not the pickup that
  # completes a fetch mission), and how many of them the episode passes for
  # the first time (the first pick-up of this key, the first opening of this
  # door): the paper's kind of event, as each of Ms Pac-Man's pac-dots or
  # H.E.R.O.'s walls happens once.
  passed: Tuple[world_object.WorldObj, ...] = ()
  first_passages: int = 0

  @property
  def passages(self) -> int:
    """Events a level makes the agent go through on the way to its goal."""
    return len(self.passed)


NO_EVENTS = StepEvents()


def before_step(simulator: Any) -> None:
  """Records the cell in front of the agent and what it carries (and, on an
  episode's first step, where it starts and that it has passed nothing)."""
  if simulator.step_count == 0:
    setattr(simulator, _PASSED, set())
    setattr(simulator, _START, (simulator.grid, tuple(simulator.agent_pos)))
  front = simulator.grid.get(*simulator.front_pos)
  was_open = front.is_open if isinstance(front, world_object.Door) else None
  setattr(simulator, _BEFORE, (front, was_open, simulator.carrying))


def after_step(simulator: Any, game_reward: float) -> StepEvents:
  """The events of the step just taken (after `before_step`); kept on the
  simulator for `last`."""
  front, was_open, carried = getattr(simulator, _BEFORE)
  door_opened = None
  box_opened = False
  if isinstance(front, world_object.Door) and not was_open and front.is_open:
    door_opened = front
  if isinstance(front, world_object.Box):
    box_opened = (simulator.grid.get(*simulator.front_pos) is not front and
                  simulator.carrying is not front)
  carrying = simulator.carrying
  picked_up = carrying if carrying is not None and carrying is not carried \
      else None
  succeeded = game_reward > 0
  passed = tuple(obj for obj in (door_opened, front if box_opened else None,
                                 None if succeeded else picked_up)
                 if obj is not None)
  events = StepEvents(door_opened, picked_up, box_opened, succeeded, passed,
                      _first_passages(simulator, passed))
  setattr(simulator, _EVENTS, (simulator.step_count, events))
  return events


def _first_passages(simulator: Any,
                    objects: Sequence[world_object.WorldObj]) -> int:
  """How many of `objects` the episode passes for the first time."""
  seen: Set[int] = getattr(simulator, _PASSED)
  new = {id(obj) for obj in objects} - seen
  seen.update(new)
  return len(new)


def last(simulator: Any) -> StepEvents:
  """The events of the simulator's latest step (none before the first)."""
  step, events = getattr(simulator, _EVENTS, (None, NO_EVENTS))
  return events if step == simulator.step_count else NO_EVENTS


def start_position(simulator: Any) -> Optional[Tuple[int, int]]:
  """Where the agent stood when the current episode's first step began
  (None before it)."""
  grid, position = getattr(simulator, _START, (None, None))
  return position if grid is simulator.grid else None


@functools.lru_cache(maxsize=None)
def _layout_counts(level: str) -> Tuple[Tuple[str, int], ...]:
  env = gymnasium.make(level)
  with contextlib.redirect_stdout(io.StringIO()):  # BabyAI's rejected layouts.
    env.reset(seed=0)
  counts: Dict[str, int] = {}
  for cell in env.unwrapped.grid.grid:
    if cell is not None:
      counts[cell.type] = counts.get(cell.type, 0) + 1
  env.close()
  return tuple(sorted(counts.items()))


def layout(simulator: Any) -> Dict[str, int]:
  """How many of each object type (door, key, box, ball, goal, ...) the level
  lays out, from a fresh reset of the same level (so it answers also before
  the first reset, and does not disturb the simulator's random stream)."""
  return dict(_layout_counts(simulator.spec.id))


def has_doors(simulator: Any) -> bool:
  return layout(simulator).get('door', 0) > 0


def has_pickable_objects(simulator: Any) -> bool:
  counts = layout(simulator)
  return any(counts.get(kind, 0) for kind in ('key', 'ball', 'box'))


def has_passages(simulator: Any) -> bool:
  """Whether the level has doors, keys or boxes on the way to its goal."""
  return has_doors(simulator) or has_pickable_objects(simulator)
