"""Game events read from the Atari emulator's RAM, frame by frame.

The paper's modified tasks pay for events the score alone cannot tell apart:
a vulnerable ghost and a strawberry both score 200 in Ms Pac-Man, and the
agent step that rescues H.E.R.O.'s miner also pays the first ticks of the
end-of-level count-down. Each detector reads one emulator frame: the RAM
before it, the RAM after it and the frame's reward. RAM indices are into
`ALEInterface.getRAM()` (address - 0x80). Every rule was checked against the
score on recorded play: each frame's reward equals the points of the events
detected on it (tests/test_atari_tasks.py replays the recordings).
"""

import dataclasses

import numpy as np

# H.E.R.O. Sources: AtariARI's annotations (mila-iqia/atari-representation-
# learning, ram_annotations.py: room 28, level 117, dynamite 50), OCAtari's
# (k4ntz/OC_Atari, ocatari/ram/hero.py: the destructible wall's x in 32, 0
# when there is none), and the emulator for the rest (the flag in 114 and
# the kill timers).
HERO_SCREEN = 28  # Screen within the level.
HERO_WALL_X = 32  # x of this screen's destructible wall; 0 once destroyed.
HERO_DYNAMITE = 50  # Sticks left; drops by one on the frame a stick explodes.
# 0 in play, 255 from the frame the miner is reached to the end of the
# count-down that turns power and dynamite left into points.
HERO_LEVEL_DONE = 114
HERO_LEVEL = 117
HERO_KILL_TIMERS = (119, 120, 121)  # Per enemy slot: 0 -> 18 on a kill.
HERO_POINTS = dict(miners=1000, walls=75, creatures=50)


@dataclasses.dataclass(frozen=True)
class HeroEvents:
  """What happened on one H.E.R.O. frame."""
  miners: int = 0  # Miners reached (+1000; it ends the level).
  walls: int = 0  # Walls destroyed by a dynamite blast (+75).
  walls_by_laser: int = 0  # Walls burnt away by the helmet laser (0 points).
  creatures: int = 0  # Creatures killed by laser or dynamite (+50 each).
  countdown: bool = False  # The end-of-level bonus count-down runs.

  def points(self, frame_reward: float) -> float:
    """The game's points these events explain (all of a count-down frame's
    reward is bonus)."""
    if self.countdown:
      return frame_reward
    return sum(HERO_POINTS[name] * getattr(self, name) for name in HERO_POINTS)


def hero_events(before: np.ndarray, after: np.ndarray) -> HeroEvents:
  """H.E.R.O.'s events on the frame from RAM `before` to RAM `after`."""
  before, after = before.astype(np.int64), after.astype(np.int64)
  # Judged by the flag before the frame: with no dynamite left, the last
  # bonus tick is paid on the frame the next level starts (flag 255 -> 0).
  countdown = bool(before[HERO_LEVEL_DONE] == 255)
  if countdown:
    return HeroEvents(countdown=True)
  same_screen = (before[HERO_SCREEN] == after[HERO_SCREEN] and
                 before[HERO_LEVEL] == after[HERO_LEVEL])
  wall_gone = bool(same_screen and before[HERO_WALL_X] != 0 and
                   after[HERO_WALL_X] == 0)
  blast = before[HERO_DYNAMITE] - after[HERO_DYNAMITE] == 1
  return HeroEvents(
      miners=int(after[HERO_LEVEL_DONE] == 255),
      walls=int(wall_gone and blast),
      walls_by_laser=int(wall_gone and not blast),
      creatures=int(sum(after[i] > before[i] for i in HERO_KILL_TIMERS)))


# Ms Pac-Man. Sources: AtariARI (ram_annotations.py: pills eaten 119),
# OCAtari (ocatari/ram/mspacman.py: the dot map, power pills, fruit) and
# HackAtari (hackatari/games/mspacman.py: ghost states 1-4, 116), checked in
# the emulator.
# Per ghost: bit 7 while frightened (blue); high nibble 4 from the frame Ms
# Pac-Man eats it (then 6: eyes, 7: home). A ghost whose fright ends never
# passes through 4. Eaten on the frame its power pill is eaten, a ghost goes
# to 4 without ever showing bit 7: the rule must not ask for it.
PACMAN_GHOST_STATES = (1, 2, 3, 4)
PACMAN_EATEN = 0x4
PACMAN_FRIGHTENED = 116  # Bits 6-7: ghosts eaten since the last power pill
# (back to 0 after the fourth).
PACMAN_POWER_PILLS = 117  # Bits 2-5: the four power pills still on the maze.
PACMAN_PILLS_EATEN = 119  # Dots and power pills eaten in this maze.
PACMAN_DOTS = slice(59, 101)  # Bitmap of the pac-dots still on the maze.
PACMAN_FRUIT_X = 11  # 0 when there is no fruit.
PACMAN_PHASE = 39  # 51 on the frame a ghost or a fruit is eaten (a freeze).
PACMAN_FRUIT_TYPE = 123  # High nibble: cherry, strawberry, ... banana.
PACMAN_FRUIT_POINTS = (100, 200, 500, 700, 1000, 2000, 5000)
PACMAN_POINTS = dict(dots=10, power_pills=50)
PACMAN_SCORE_LOW = 120  # BCD; the extra life at 10,000 points sets bit 0,
# so the game pays one odd point on that frame.


def _bits_cleared(before: np.ndarray, after: np.ndarray) -> int:
  """How many set bits of `before` are clear in `after`."""
  cleared = np.asarray(before & ~after, dtype=np.uint8)
  return int(np.unpackbits(np.atleast_1d(cleared)).sum())


@dataclasses.dataclass(frozen=True)
class MsPacmanEvents:
  """What happened on one Ms Pac-Man frame."""
  dots: int = 0  # Pac-dots eaten (+10 each).
  power_pills: int = 0  # Power pills eaten (+50 each).
  ghosts: int = 0  # Vulnerable ghosts eaten.
  ghost_points: int = 0  # Their points: 200, 400, 800, 1600 in a row.
  fruits: int = 0  # Fruits eaten.
  fruit_points: int = 0
  extra_life: int = 0  # The extra life at 10,000 points (+1 point).

  def points(self) -> float:
    """The game's points these events explain."""
    return (PACMAN_POINTS['dots'] * self.dots +
            PACMAN_POINTS['power_pills'] * self.power_pills +
            self.ghost_points + self.fruit_points + self.extra_life)


def ms_pacman_events(before: np.ndarray, after: np.ndarray) -> MsPacmanEvents:
  """Ms Pac-Man's events on the frame from RAM `before` to RAM `after`
  (two frames of one maze: not across a reset)."""
  before, after = before.astype(np.int64), after.astype(np.int64)
  pills_eaten = after[PACMAN_PILLS_EATEN] - before[PACMAN_PILLS_EATEN]
  # Dots vanish from the bitmap also when a new maze is drawn; eaten ones
  # advance the pill counter on the same frame.
  dots = (_bits_cleared(before[PACMAN_DOTS], after[PACMAN_DOTS])
          if 0 < pills_eaten <= 8 else 0)
  ghosts = sum(1 for i in PACMAN_GHOST_STATES
               if before[i] >> 4 != PACMAN_EATEN and
               after[i] >> 4 == PACMAN_EATEN)
  # Ghosts eaten in this power pill's time, these included (the count
  # wraps to 0 on the fourth): the n-th pays 200 x 2^(n-1).
  eaten = (after[PACMAN_FRIGHTENED] >> 6) or 4
  fruits = int(before[PACMAN_FRUIT_X] != 0 and after[PACMAN_FRUIT_X] == 0 and
               after[PACMAN_PHASE] == 51)
  fruit_type = after[PACMAN_FRUIT_TYPE] >> 4
  return MsPacmanEvents(
      dots=dots,
      power_pills=_bits_cleared(before[PACMAN_POWER_PILLS] & 0x3C,
                                after[PACMAN_POWER_PILLS]),
      ghosts=ghosts,
      ghost_points=sum(200 << (n - 1)
                       for n in range(eaten - ghosts + 1, eaten + 1)),
      fruits=fruits,
      fruit_points=fruits * PACMAN_FRUIT_POINTS[
          min(fruit_type, len(PACMAN_FRUIT_POINTS) - 1)],
      extra_life=int(after[PACMAN_SCORE_LOW] & 1 and
                     not before[PACMAN_SCORE_LOW] & 1))
