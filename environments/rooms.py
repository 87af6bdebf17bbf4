"""Rooms of MiniGrid levels: where the agent is.

MultiRoom levels are a chain of rooms joined by doors; the agent starts in room
0 and the goal is in the last room. Levels without rooms answer None / False.
On every level, the start area is what the agent can walk to from where it
started without going through a door, and the reachable area all it could
stand on.
"""

from typing import Any, FrozenSet, Optional, Tuple

from behavior_transfer.environments import minigrid_play


def has_rooms(simulator: Any) -> bool:
  """Whether the level is a chain of rooms, judged from its raw simulator
  (also before the first reset)."""
  return hasattr(simulator, 'rooms')


def room_index(simulator: Any) -> Optional[int]:
  """Which room the agent stands inside (0 is the starting room), or None in
  a doorway or on a level without rooms."""
  x, y = simulator.agent_pos
  for index, room in enumerate(getattr(simulator, 'rooms', ())):
    (left, top), (width, height) = room.top, room.size
    if left < x < left + width - 1 and top < y < top + height - 1:
      return index
  return None


def start_area(simulator: Any, start: minigrid_play.Cell
               ) -> FrozenSet[minigrid_play.Cell]:
  """The cells connected to `start` when every door, open or not, is a wall
  and every other object (a key, a ball, a box) could be moved out of the
  way: what lies on the agent's side of the level's doors."""
  return _connected(simulator, start, blocking=('wall', 'door'))


def reachable_area(simulator: Any, start: minigrid_play.Cell
                   ) -> FrozenSet[minigrid_play.Cell]:
  """The cells an agent starting at `start` could stand on without dying:
  through every door (a locked one's key lies on the way) and over every
  object it could move, but never onto lava."""
  return _connected(simulator, start, blocking=('wall', 'lava'))


def most_cells_visited(simulator: Any,
                       area: FrozenSet[minigrid_play.Cell]) -> int:
  """The most distinct cells one episode can stand on, given the level's
  `reachable_area`: the episode ends on the first goal or lava cell the agent
  steps onto, so it counts the area's other cells and one such cell, if any
  lies in the area or borders it (stepping onto lava counts its cell)."""
  def ends_episode(cell):
    obj = simulator.grid.get(*cell)
    return obj is not None and obj.type in ('goal', 'lava')
  bordering = {(x + dx, y + dy) for x, y in area
               for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
               if 0 <= x + dx < simulator.grid.width and
               0 <= y + dy < simulator.grid.height}
  return sum(not ends_episode(cell) for cell in area) + any(
      ends_episode(cell) for cell in area | bordering)


def _connected(simulator: Any, start: minigrid_play.Cell,
               blocking: Tuple[str, ...]) -> FrozenSet[minigrid_play.Cell]:
  """`start` and the cells joined to it through cells holding nothing or no
  object of a `blocking` type."""
  area, frontier = {start}, [start]
  while frontier:
    x, y = frontier.pop()
    for cell in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
      if cell in area or not (0 <= cell[0] < simulator.grid.width and
                              0 <= cell[1] < simulator.grid.height):
        continue
      obj = simulator.grid.get(*cell)
      if obj is None or obj.type not in blocking:
        area.add(cell)
        frontier.append(cell)
  return frozenset(area)
