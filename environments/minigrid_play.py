"""Scripted play on MiniGrid: shortest action sequences (by breadth-first
search over position and heading, read from the simulator) that face or reach
a cell. Tests check with them what a task pays on exactly which step;
`studies.value_route` walks a finished run's network along them."""

import collections
from typing import Any, Callable, List, Tuple

import numpy as np

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE = 0, 1, 2, 3, 4, 5
_HEADINGS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # minigrid's DIR_TO_VEC.

Cell = Tuple[int, int]


def _passable(simulator: Any, cell: Cell, goal_ok: bool) -> bool:
  obj = simulator.grid.get(*cell)
  if obj is None:
    return True
  if obj.type == 'door':
    return obj.is_open
  return obj.type == 'goal' and goal_ok


def _search(simulator: Any, done, goal_ok: bool) -> List[int]:
  start = (tuple(int(v) for v in simulator.agent_pos), int(simulator.agent_dir))
  parents = {start: None}
  queue = collections.deque([start])
  while queue:
    state = queue.popleft()
    if done(*state):
      actions = []
      while parents[state] is not None:
        state, action = parents[state]
        actions.append(action)
      return actions[::-1]
    (x, y), heading = state
    dx, dy = _HEADINGS[heading]
    moves = [(LEFT, ((x, y), (heading - 1) % 4)),
             (RIGHT, ((x, y), (heading + 1) % 4))]
    if _passable(simulator, (x + dx, y + dy), goal_ok):
      moves.append((FORWARD, ((x + dx, y + dy), heading)))
    for action, following in moves:
      if following not in parents:
        parents[following] = (state, action)
        queue.append(following)
  raise ValueError('No path.')


def face(simulator: Any, target: Cell) -> List[int]:
  """Actions that leave the agent in front of `target`, facing it."""
  def done(position, heading):
    dx, dy = _HEADINGS[heading]
    return (position[0] + dx, position[1] + dy) == tuple(target)
  return _search(simulator, done, goal_ok=False)


def reach(simulator: Any, target: Cell) -> List[int]:
  """Actions that walk the agent onto `target`."""
  return _search(simulator, lambda position, _: position == tuple(target),
                 goal_ok=True)


def cells(simulator: Any, kind: str, **attributes) -> List[Cell]:
  """Every cell holding an object of `kind` (and `attributes`), in grid
  order."""
  width = simulator.grid.width
  return [(index % width, index // width)
          for index, obj in enumerate(simulator.grid.grid)
          if obj is not None and obj.type == kind and
          all(getattr(obj, k) == v for k, v in attributes.items())]


def find(simulator: Any, kind: str, **attributes) -> Cell:
  """The first cell holding an object of `kind` (and `attributes`)."""
  found = cells(simulator, kind, **attributes)
  if not found:
    raise ValueError(f'No {kind} {attributes} on the grid.')
  return found[0]


def nearest(simulator: Any, walk: Callable[[Any, Cell], List[int]],
            kind: str, **attributes) -> Cell:
  """The cell of an object of `kind` (and `attributes`) that `walk` (`face`
  or `reach`) gets the agent to in the fewest actions: on a level of many
  doors, the next one on the way rather than the first in grid order."""
  walks = {}
  for cell in cells(simulator, kind, **attributes):
    try:
      walks[cell] = len(walk(simulator, cell))
    except ValueError:  # Behind a closed door or a wall.
      continue
  if not walks:
    raise ValueError(f'No {kind} {attributes} the agent can get to.')
  return min(walks, key=walks.get)


def play(environment: Any, actions: List[int]) -> List[float]:
  """Steps `environment` (a dm_env) through `actions`; their rewards."""
  return [float(environment.step(np.int32(a)).reward) for a in actions]
