"""Rooms of multi-room MiniGrid levels (MultiRoom): where the agent is.

MultiRoom levels are a chain of rooms joined by doors; the agent starts in room
0 and the goal is in the last room. Levels without rooms answer None / False.
"""

from typing import Any, Optional


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
