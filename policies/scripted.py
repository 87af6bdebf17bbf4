"""Hand-written pre-trained policies for MiniGrid, for tests and benchmarks.

`DoorSeekingPolicy` explores without solving tasks: it heads for visible doors,
opens closed ones and walks through, and otherwise wanders, but it treats the
goal as a wall, so it never collects the goal reward itself.
"""

import numpy as np

from behavior_transfer.policies import pretrained

# MiniGrid's encoding (minigrid.core.constants) and actions.
_EMPTY, _DOOR, _GOAL = 1, 4, 8
_OPEN, _CLOSED, _LOCKED = 0, 1, 2
LEFT, RIGHT, FORWARD, TOGGLE = 0, 1, 2, 5
NUM_MINIGRID_ACTIONS = 7
# In the 7x7 egocentric view the agent is at column 3 of the last row, facing
# the first row, so the cell ahead of it is (3, 5) in [column, row] indexing.
_AGENT_COLUMN, _AHEAD = 3, (3, 5)


class DoorSeekingPolicy(pretrained.PretrainedPolicy):
  """Walks to doors and through them; never onto the goal."""

  def __init__(self, seed: int = 0, forward_probability: float = 0.8):
    self._rng = np.random.RandomState(seed)
    self._forward_probability = forward_probability

  @property
  def num_actions(self) -> int:
    return NUM_MINIGRID_ACTIONS

  def step(self, observation, state):
    image = np.asarray(getattr(observation, 'observation', observation))
    objects, states = image[..., 0], image[..., 2]
    ahead_object, ahead_state = objects[_AHEAD], states[_AHEAD]
    if ahead_object == _DOOR and ahead_state == _CLOSED:
      return TOGGLE, state
    passable = ahead_object == _EMPTY or (ahead_object == _DOOR and
                                          ahead_state == _OPEN)
    columns, rows = np.nonzero((objects == _DOOR) & (states != _LOCKED))
    if len(columns):
      # Walk ahead until level with the nearest door, then turn towards it.
      sideways, ahead = columns - _AGENT_COLUMN, 6 - rows
      nearest = np.argmin(np.abs(sideways) + ahead)
      sideways, ahead = sideways[nearest], ahead[nearest]
      turn = LEFT if sideways < 0 else RIGHT
      if sideways == 0 or ahead > 0:
        if passable:
          return FORWARD, state
        return (turn if sideways else self._random_turn()), state
      return turn, state
    if passable and self._rng.rand() < self._forward_probability:
      return FORWARD, state
    return self._random_turn(), state

  def _random_turn(self) -> int:
    return LEFT if self._rng.rand() < 0.5 else RIGHT
