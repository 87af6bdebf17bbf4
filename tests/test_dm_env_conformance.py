"""dm_env's conformance tests for every environment the project builds.

Each case runs `dm_env.test_utils.EnvironmentTestMixin` (reset, step on a fresh
environment, step after reset, a longer action sequence) on one environment:
the raw MiniGrid and Atari classes, and `make_environment`'s stacks with and
without the OAR wrapper. Every timestep must match the specs exactly (dtype
and shape), also the FIRST step that step() returns when an environment starts
a new episode by itself. The action sequences cross episode ends, so that path
is always checked.
"""

from typing import Callable, Iterator, Sequence, Type

from absl.testing import absltest
import dm_env
from dm_env import test_utils
import numpy as np

from behavior_transfer import environments
from behavior_transfer.environments import atari
from behavior_transfer.environments import minigrid

EMPTY = 'MiniGrid-Empty-5x5-v0'  # 100-step limit; the goal is 5 steps away.
MULTI_ROOM = 'MiniGrid-MultiRoom-N2-S4-v0'  # 40-step limit.
BABYAI = 'BabyAI-OpenRedDoor-v0'  # 50-step limit.
# Reaches the goal of EMPTY from its fixed start, ending by termination.
EMPTY_GOAL_ACTIONS = (2, 2, 1, 2, 2)
# Short Atari episodes, so that 100 steps end one by truncation.
ATARI_KWARGS = dict(max_episode_frames=200)


def _conformance_test(make: Callable[[], dm_env.Environment],
                      num_actions: int = 120,
                      prefix: Sequence[int] = ()) -> Type[absltest.TestCase]:
  """A test case running the mixin on `make()`, with action sequences of
  `prefix` then random valid actions, `num_actions` in all."""

  class ConformanceTest(test_utils.EnvironmentTestMixin, absltest.TestCase):

    def make_object_under_test(self) -> dm_env.Environment:
      return make()

    def make_action_sequence(self) -> Iterator[np.ndarray]:
      spec = self.environment.action_spec()
      rng = np.random.RandomState(0)
      random = rng.randint(spec.num_values, size=num_actions - len(prefix))
      actions = np.concatenate([prefix, random]).astype(spec.dtype)
      yield from actions

    def test_action_sequence_crosses_an_episode_end(self):
      """So that test_longer_action_sequence checks step() after a LAST."""
      previous = self.environment.reset()
      for action in self.make_action_sequence():
        timestep = self.environment.step(action)
        if previous.last():
          self.assertTrue(timestep.first())
          return
        previous = timestep
      self.fail('The action sequence ends no episode.')

  return ConformanceTest


def _raw_minigrid(level: str) -> Type[absltest.TestCase]:
  return _conformance_test(lambda: minigrid.MiniGridEnvironment(level),
                           prefix=EMPTY_GOAL_ACTIONS)


def _raw_atari(game: str) -> Type[absltest.TestCase]:
  return _conformance_test(
      lambda: atari.AtariEnvironment(game, **ATARI_KWARGS), num_actions=100)


def _made(name: str, **kwargs) -> Type[absltest.TestCase]:
  """The case for `make_environment(name, **kwargs)`."""
  if name.startswith('atari:'):
    kwargs.update(ATARI_KWARGS)
    return _conformance_test(
        lambda: environments.make_environment(name, **kwargs), num_actions=100)
  return _conformance_test(
      lambda: environments.make_environment(name, **kwargs),
      prefix=EMPTY_GOAL_ACTIONS)


RawMiniGridEmptyTest = _raw_minigrid(EMPTY)
RawMiniGridMultiRoomTest = _raw_minigrid(MULTI_ROOM)
MiniGridEmptyTest = _made(f'minigrid:{EMPTY}', oar_wrapper=False)
MiniGridEmptyOARTest = _made(f'minigrid:{EMPTY}')
MiniGridEmptyRewardFreeTest = _made(
    f'minigrid:{EMPTY}', task='none', oar_wrapper=False)
MiniGridEmptyRewardFreeOARTest = _made(f'minigrid:{EMPTY}', task='none')
MiniGridMultiRoomTest = _made(f'minigrid:{MULTI_ROOM}', oar_wrapper=False)
MiniGridMultiRoomOARTest = _made(f'minigrid:{MULTI_ROOM}')
MiniGridMultiRoomDeceptiveTest = _made(
    f'minigrid:{MULTI_ROOM}', task='deceptive_first_room', oar_wrapper=False)
MiniGridMultiRoomDeceptiveOARTest = _made(
    f'minigrid:{MULTI_ROOM}', task='deceptive_first_room')
BabyAIOpenRedDoorOARTest = _made(f'minigrid:{BABYAI}', task='success')
RawAtariPongTest = _raw_atari('pong')
AtariPongTest = _made('atari:pong', oar_wrapper=False)
AtariPongOARTest = _made('atari:pong')
AtariPongRewardFreeOARTest = _made('atari:pong', task='none')
AtariMsPacmanGhostsHardOARTest = _made('atari:ms_pacman', task='eat_ghosts_hard')
AtariHeroMinersHardOARTest = _made('atari:hero', task='rescue_miners_hard')


class FirstStepFromStepTest(absltest.TestCase):

  def test_oar_holds_the_values_reset_gives(self):
    """After a LAST, step()'s FIRST holds the previous action and reward
    reset() gives, not the ignored action and None."""
    env = environments.make_environment(f'minigrid:{EMPTY}')
    env.reset()
    for action in EMPTY_GOAL_ACTIONS:
      timestep = env.step(np.int32(action))
    self.assertTrue(timestep.last())
    first = env.step(np.int32(2)).observation
    reset = env.reset().observation
    for value, expected in ((first.action, reset.action),
                            (first.reward, reset.reward)):
      self.assertEqual(value, expected)
      self.assertEqual(np.asarray(value).dtype, np.asarray(expected).dtype)


if __name__ == '__main__':
  absltest.main()
