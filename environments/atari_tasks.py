"""The paper's modified Atari tasks (section 5), over unchanged dynamics.

- Ms Pac-Man, `eat_ghosts_easy` / `eat_ghosts_hard`: only eating vulnerable
  (blue) ghosts pays, the game's 200, 400, 800 or 1600 points; each pac-dot
  gives 0 (easy) or -10 (hard); power pills and fruit give nothing.
- H.E.R.O., `rescue_miners_easy` / `rescue_miners_hard`: +1000 per rescued
  miner; each wall destroyed by dynamite gives 0 (easy) or -300 (hard);
  creatures and the end-of-level bonus for power and dynamite left give
  nothing.

Events come from RAM frame by frame (`atari_events`), so a fruit is never
taken for a ghost and a rescue is never mixed with its count-down bonus.
Even the easy tasks are harder to explore than the games: no small rewards
lead the way. The hard ones add a deceptive signal pulling away from it.
"""

from behavior_transfer.environments import atari_events
from behavior_transfer.environments import tasks

PAC_DOT_REWARD = {'easy': 0., 'hard': -10.}
DYNAMITED_WALL_REWARD = {'easy': 0., 'hard': -300.}
RESCUED_MINER_REWARD = 1000.


def _plays(game: str) -> tasks.AppliesFn:
  return lambda state: getattr(state, 'game', None) == game


def _check_game(state, game: str, task: str) -> None:
  if getattr(state, 'game', None) != game:
    raise ValueError(f'Task {task!r} is defined on atari:{game}, not on '
                     f'{getattr(state, "game", state)!r}.')


def _ghosts_and_dots(state, pac_dot_reward: float, task: str) -> float:
  _check_game(state, 'ms_pacman', task)
  reward = 0.
  for before, after, _ in state.frames():
    events = atari_events.ms_pacman_events(before, after)
    reward += events.ghost_points + pac_dot_reward * events.dots
  return reward


def _miners_and_walls(state, wall_reward: float, task: str) -> float:
  _check_game(state, 'hero', task)
  reward = 0.
  for before, after, _ in state.frames():
    events = atari_events.hero_events(before, after)
    reward += RESCUED_MINER_REWARD * events.miners + wall_reward * events.walls
  return reward


@tasks.register_task('atari', 'eat_ghosts_easy', applies=_plays('ms_pacman'))
def eat_ghosts_easy_task(game_reward: float, state) -> float:
  """Ms Pac-Man: vulnerable ghosts pay their points, pac-dots 0."""
  del game_reward
  return _ghosts_and_dots(state, PAC_DOT_REWARD['easy'], 'eat_ghosts_easy')


@tasks.register_task('atari', 'eat_ghosts_hard', applies=_plays('ms_pacman'))
def eat_ghosts_hard_task(game_reward: float, state) -> float:
  """Ms Pac-Man: vulnerable ghosts pay their points, pac-dots -10 each."""
  del game_reward
  return _ghosts_and_dots(state, PAC_DOT_REWARD['hard'], 'eat_ghosts_hard')


@tasks.register_task('atari', 'rescue_miners_easy', applies=_plays('hero'))
def rescue_miners_easy_task(game_reward: float, state) -> float:
  """H.E.R.O.: +1000 per rescued miner, dynamited walls 0."""
  del game_reward
  return _miners_and_walls(state, DYNAMITED_WALL_REWARD['easy'],
                           'rescue_miners_easy')


@tasks.register_task('atari', 'rescue_miners_hard', applies=_plays('hero'))
def rescue_miners_hard_task(game_reward: float, state) -> float:
  """H.E.R.O.: +1000 per rescued miner, -300 per dynamited wall."""
  del game_reward
  return _miners_and_walls(state, DYNAMITED_WALL_REWARD['hard'],
                           'rescue_miners_hard')
