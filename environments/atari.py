"""Atari as a dm_env over ale-py, with the R2D2/Agent57 conventions.

- the full 18-action set, so a pre-trained policy and every task share actions;
- action repeat 4 with max-pooling over the last two frames; grayscale 84x84;
- up to 30 random no-op frames at reset; life loss is not terminal;
- a 108,000-frame episode cap, reported as a truncation (discount 1);
- no reward clipping (the learner uses value rescaling instead).

Tasks see an `AtariState`: the emulator, plus its RAM before the step and
after each of the step's frames with each frame's reward, so that a task can
tell events apart frame by frame even when several land in one agent step.
"""

import functools
from typing import Any, List, Optional

import ale_py
from ale_py import roms
import dm_env
from dm_env import specs
import numpy as np
from PIL import Image

from behavior_transfer.environments import names
from behavior_transfer.environments import tasks as tasks_lib
from behavior_transfer.environments import timesteps

OBSERVATION_SHAPE = (84, 84, 1)
MAX_EPISODE_FRAMES = 108_000


@functools.lru_cache(maxsize=None)
def _unloadable_reason(game: str) -> Optional[str]:
  """Why ALE cannot load the ROM ale-py ships for `game`, if it cannot.

  ale-py 0.12.1 ships four ROMs (combat, joust, maze_craze, warlords)
  whose checksums its own ALE does not recognise; loading one ends the
  process from C++ (exit status 1), with no Python exception to catch.
  """
  if ale_py.ALEInterface.isSupportedROM(roms.get_rom_path(game)) is not None:
    return None
  return (f'Atari game {game!r} cannot be loaded: ale-py '
          f'{ale_py.__version__} ships its ROM, but ALE does not support '
          f'that ROM (its checksum is not in ALE\'s table of supported '
          f'games) and would end the process. Use another game.')


def game_names() -> List[str]:
  """ALE ids of the games whose ROMs ship inside ale-py and ALE can load."""
  return names.usable(roms.get_all_rom_ids(), _unloadable_reason)


def check_game(game: str) -> str:
  """Returns `game` if ALE can load it; otherwise raises saying why, or
  listing close names."""
  return names.check_usable('Atari game', game, roms.get_all_rom_ids(),
                            _unloadable_reason)


class AtariState:
  """The simulator an Atari task reads: the game's name, the emulator
  (`ale`; its other methods, e.g. getRAM and lives, pass through), and
  what happened on the last agent step frame by frame."""

  def __init__(self, game: str, ale: ale_py.ALEInterface):
    self.game = game
    self.ale = ale
    # RAM before the last step, then after each of its frames.
    self.frame_rams: List[np.ndarray] = [ale.getRAM()]
    self.frame_rewards: List[float] = []  # The game's reward of each frame.

  def start_step(self) -> None:
    self.frame_rams = [self.ale.getRAM()]
    self.frame_rewards = []

  def record_frame(self, reward: float) -> None:
    self.frame_rams.append(self.ale.getRAM())
    self.frame_rewards.append(reward)

  def frames(self):
    """(RAM before, RAM after, reward) of each frame of the last step."""
    return zip(self.frame_rams[:-1], self.frame_rams[1:], self.frame_rewards)

  def __getattr__(self, name: str) -> Any:
    if name == 'ale' or name.startswith('__'):  # Not set yet (copies).
      raise AttributeError(name)
    return getattr(self.ale, name)


class AtariEnvironment(dm_env.Environment):
  """One ALE game with R2D2 preprocessing and a pluggable task reward."""

  def __init__(self,
               game: str,
               task: tasks_lib.TaskFn = tasks_lib.game_reward_task,
               seed: int = 0,
               action_repeat: int = 4,
               max_noops: int = 30,
               max_episode_frames: int = MAX_EPISODE_FRAMES,
               sticky_action_probability: float = 0.0):
    self._game = check_game(game)
    self._task = task
    self._action_repeat = action_repeat
    self._max_noops = max_noops
    self._rng = np.random.RandomState(seed)

    # The logger mode is global; set before the interface prints its banner.
    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
    self._ale = ale_py.ALEInterface()
    self._ale.setInt('random_seed', int(seed) % (2**31 - 1))
    self._ale.setInt('max_num_frames_per_episode', int(max_episode_frames))
    self._ale.setFloat('repeat_action_probability', sticky_action_probability)
    self._ale.loadROM(roms.get_rom_path(self._game))
    self._actions = self._ale.getLegalActionSet()  # Full 18-action set.
    self._state = AtariState(self._game, self._ale)

    height, width = self._ale.getScreenDims()
    self._frames = np.zeros((2, height, width), dtype=np.uint8)
    self._reset_next_step = True

  @property
  def game(self) -> str:
    return self._game

  @property
  def simulator(self) -> AtariState:
    """The ALE with the last step's frames, for tasks and metrics that read
    RAM."""
    return self._state

  def reset(self) -> dm_env.TimeStep:
    self._ale.reset_game()
    for _ in range(self._rng.randint(self._max_noops + 1)):
      self._ale.act(self._actions[0])
      if self._ale.game_over():
        self._ale.reset_game()
    self._ale.getScreenGrayscale(self._frames[0])
    self._frames[1] = self._frames[0]
    self._reset_next_step = False
    self._state.start_step()
    self.last_game_reward = 0.
    return dm_env.restart(self._observation())

  def step(self, action) -> dm_env.TimeStep:
    if self._reset_next_step:
      return self.reset()
    ale_action = self._actions[int(action)]
    game_reward = 0.0
    self._state.start_step()
    for i in range(self._action_repeat):
      frame_reward = self._ale.act(ale_action)
      self._state.record_frame(frame_reward)
      game_reward += frame_reward
      if self._ale.game_over():  # Pool the final frame with itself.
        self._ale.getScreenGrayscale(self._frames[0])
        self._frames[1] = self._frames[0]
        break
      if i >= self._action_repeat - 2:
        self._ale.getScreenGrayscale(self._frames[i - self._action_repeat + 2])
    self.last_game_reward = game_reward  # Before the task; read by measures.
    reward = self._task(game_reward, self._state)
    observation = self._observation()
    if self._ale.game_over():
      self._reset_next_step = True
      if self._ale.game_truncated():
        return timesteps.truncation(reward, observation)
      return timesteps.termination(reward, observation)
    return timesteps.transition(reward, observation)

  def _observation(self) -> np.ndarray:
    pooled = np.maximum(self._frames[0], self._frames[1])
    image = Image.fromarray(pooled).resize(OBSERVATION_SHAPE[1::-1],
                                           Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8)[..., None]

  def observation_spec(self) -> specs.Array:
    return specs.BoundedArray(OBSERVATION_SHAPE, np.uint8, 0, 255,
                              name='observation')

  def action_spec(self) -> specs.DiscreteArray:
    return specs.DiscreteArray(len(self._actions), name='action')

  def reward_spec(self) -> specs.Array:
    return timesteps.reward_spec()

  def discount_spec(self) -> specs.BoundedArray:
    return timesteps.discount_spec()

  def episode_frame_number(self) -> int:
    return self._ale.getEpisodeFrameNumber()
