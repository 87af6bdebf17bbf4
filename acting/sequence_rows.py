"""What the actors' sequence adders share: step rows and when items are due.

Both adders (`structured_adder`, `whole_sequence_adder`) write the items of
Acme's `SequenceAdder` from rows of flat values:

* a step row is complete once its action is known, so the latest
  observation waits in Python and the whole row (observation, action,
  reward, discount, start_of_episode, extras) is written at the next `add`;
* an item is due on row `sequence_length - 1` of an episode and every
  `period` rows after;
* at an episode's end the final observation's row is completed with zeros,
  ZERO_PAD pads with zero rows up to the next item's row, and the last
  `sequence_length` rows make the episode's last item (WRITE writes it only
  if the episode has that many rows).
"""

import abc
from typing import Any, List, Optional

from acme import adders as acme_adders
from acme import types
from acme.adders.reverb import sequence
import dm_env
import tree

EndBehavior = sequence.EndBehavior
SUPPORTED_END_BEHAVIORS = (EndBehavior.ZERO_PAD, EndBehavior.WRITE)


class SequenceRowAdder(acme_adders.Adder, abc.ABC):
  """Turns Acme's adder calls into rows; subclasses write them."""

  # The items are Acme's, so is their table signature.
  signature = sequence.SequenceAdder.signature

  def __init__(self, sequence_length: int, period: int,
               end_of_episode_behavior: EndBehavior):
    if end_of_episode_behavior not in SUPPORTED_END_BEHAVIORS:
      raise ValueError(
          f'{type(self).__name__} supports end_of_episode_behavior '
          f'{[b.name for b in SUPPORTED_END_BEHAVIORS]}, got '
          f'{end_of_episode_behavior}: use acme.adders.reverb.SequenceAdder.')
    if sequence_length < 1 or period < 1:
      raise ValueError(f'sequence_length ({sequence_length}) and period '
                       f'({period}) must be positive.')
    self._sequence_length = sequence_length
    self._period = period
    self._end_behavior = end_of_episode_behavior
    # The open row: the latest observation, waiting for its action.
    self._observation: Optional[List[Any]] = None
    self._start_of_episode = False
    self._rows = 0  # Rows of the episode, final and padding rows included.

  def add_first(self, timestep: dm_env.TimeStep):
    if not timestep.first():
      raise ValueError('adder.add_first with an initial timestep (i.e. one for '
                       'which timestep.first() is True')
    self._rows = 0
    self._observation = tree.flatten(timestep.observation)
    self._start_of_episode = True

  def add(self, action: types.NestedArray, next_timestep: dm_env.TimeStep,
          extras: types.NestedArray = ()):
    if self._observation is None:
      raise ValueError('adder.add_first must be called before adder.add.')
    self._add_row([*self._observation, *tree.flatten(action),
                   next_timestep.reward, next_timestep.discount,
                   self._start_of_episode, *tree.flatten(extras)])
    self._observation = tree.flatten(next_timestep.observation)
    self._start_of_episode = next_timestep.first()
    if next_timestep.last():
      self._end_episode(self._observation)
      self._observation = None

  def _item_due(self, index: int) -> bool:
    """Whether row `index` of an episode (a step's row) ends an item."""
    first_item = self._sequence_length - 1
    return index >= first_item and (index - first_item) % self._period == 0

  def _padding(self, rows: int) -> int:
    """Zero rows after an episode's `rows` rows (its final row included):
    up to the next item's row under ZERO_PAD, none under WRITE."""
    if self._end_behavior is not EndBehavior.ZERO_PAD:
      return 0
    padding = self._sequence_length - rows
    return padding % self._period if padding < 0 else padding

  @abc.abstractmethod
  def _add_row(self, row: List[Any]) -> None:
    """Writes a step's row (counting it in `_rows`), and the item it ends,
    if any."""

  @abc.abstractmethod
  def _end_episode(self, final_observation: List[Any]) -> None:
    """Writes the final observation's row, the padding and the episode's
    last item."""
