"""The transfer suite: where the study asks whether Behavior Transfer helps.

Each level of the suite pairs MiniGrid dynamics with its bundled NGU pi_p and
the paper's task families (its figure 5) over those dynamics:
  game  the level's own reward;
  easy  a sparse reward for the one event that matters;
  hard  the easy task's twin that also penalises events the agent must go
        through on the way (environments/tasks.py, PASSAGE_PENALTY), every
        time they happen;
  hard_once  the same twin charging each object's first passage in an
        episode only, as the paper's games do (a pac-dot is eaten once);
  door_hard  the hard twin of going through the level's first door (an
        event that does not end the level's episodes, so a reward-free pi_p
        can have it in its behaviour), penalising the key and the door.
Every arm of the study gets the level's transfer budget.
"""

import dataclasses
from typing import Dict, Sequence, Tuple

from behavior_transfer.environments import names

FAMILIES = ('hard', 'easy', 'game')  # In the order the study runs them.
# Where BT fails today (issue 26's study, asked for by name): the six-room
# level's last room, on multiroom only, at its own budget.
FAR = 'far'
# The hard twin as the paper's games charge (each event once per episode),
# run when named: on DoorKey, pi_p's flights pick the key up and drop it
# again and again, and `hard` charges every time.
HARD_ONCE = 'hard_once'
# A check of why BT helps where it does, run when named: a hard task whose
# rewarded event is in pi_p's own behaviour on every level with doors.
DOOR_HARD = 'door_hard'
ALL_FAMILIES = FAMILIES + (FAR, HARD_ONCE, DOOR_HARD)


@dataclasses.dataclass(frozen=True)
class SuiteLevel:
  """One level: its dynamics, pi_p, task per family and transfer budget."""
  name: str
  environment: str
  pretrained: str  # A bundled policy's name.
  tasks: Dict[str, str]  # Family -> task name.
  transfer_steps: int
  why: str  # Why the level is in the suite.
  pretrain_steps: int = 1_000_000  # Of its pi_p, with NGU's defaults.
  # Families whose budget differs from `transfer_steps`.
  budgets: Dict[str, int] = dataclasses.field(default_factory=dict)

  def task(self, family: str) -> str:
    return self.tasks[names.check_name('task family', family, self.tasks)]

  def budget(self, family: str) -> int:
    """Actor steps of every arm's run on `family`'s task."""
    return self.budgets.get(family, self.transfer_steps)


SUITE: Tuple[SuiteLevel, ...] = (
    SuiteLevel(
        'multiroom', 'minigrid:MiniGrid-MultiRoom-N4-S5-v0', 'ngu_multiroom',
        {'game': 'game', 'easy': 'reach_third_room',
         'hard': 'reach_third_room_penalised', FAR: 'reach_last_room',
         HARD_ONCE: 'reach_third_room_penalised_once',
         DOOR_HARD: 'through_door_penalised'},
        150_000,
        'Six rooms in a chain behind closed doors: the paper\'s '
        'hard-exploration setting in small. The goal (the game) is out of '
        'reach of every agent at this budget; the third room, behind two '
        'doors, is the sparse event epsilon-greedy finds in some seeds. '
        'The last room (the far family) is where BT fails at 150k and 600k '
        'steps although pi_p reaches it in 16% of its greedy episodes.',
        pretrain_steps=2_000_000, budgets={FAR: 600_000}),
    SuiteLevel(
        'doorkey', 'minigrid:MiniGrid-DoorKey-6x6-v0', 'ngu_doorkey',
        {'game': 'game', 'easy': 'success', 'hard': 'success_penalised',
         HARD_ONCE: 'success_penalised_once',
         DOOR_HARD: 'through_door_penalised'},
        150_000,
        'A key, a locked door and a goal behind it: the key must be picked '
        'up and the door opened on the way (the hard task penalises both). '
        'A random policy reaches the goal in 7% of episodes, so '
        'epsilon-greedy learns the easy task in some seeds.'),
    SuiteLevel(
        'unlockpickup', 'minigrid:MiniGrid-UnlockPickup-v0',
        'ngu_unlockpickup',
        {'game': 'game', 'easy': 'success', 'hard': 'success_penalised',
         HARD_ONCE: 'success_penalised_once',
         DOOR_HARD: 'through_door_penalised'},
        150_000,
        'Two rooms: the key lies in the first, the box to fetch behind a '
        'locked door in the second (two events on the way, penalised in the '
        'hard task). A random policy opens the door in 3% of episodes and '
        'never fetches the box; its pi_p opens the door in 98% of its '
        'episodes (19.60x random) but never fetches the box either. Its '
        'pi_p needs 2M steps: the recipe made an explorer within 2M in '
        'three runs of five.',
        pretrain_steps=2_000_000),
)

BASELINE_ARMS = ('epsilon_greedy', 'ez_greedy', 'epsilon_greedy+partial_init',
                 'epsilon_greedy+full_init')
BT_ARMS = ('bt', 'bt+partial_init')
ARMS = BT_ARMS + BASELINE_ARMS
# The ablation of BT's two parts runs on one level.
ABLATION_ARMS = ('flights', 'extra_action')
ABLATION_LEVEL = 'multiroom'
# Fine-tuning done right (knowledge retention, agents/retention): the
# baselines BT must beat, and whether retention adds to BT.
RETENTION_ARMS = ('epsilon_greedy+full_init+ks', 'epsilon_greedy+full_init+bc',
                  'epsilon_greedy+full_init+ewc',
                  'epsilon_greedy+partial_init+ks', 'bt+partial_init+ks')
# Hand-overs beyond the paper (agents/bt/handover.py) and their peer, on
# the hard tasks and the far one.
HANDOVER_ARMS = ('bt+guided', 'bt+value_ended', 'bt+zoo_pi+random_pi', 'jsrl')
# Five seeds for BT, BT with partial init and the two strongest baselines
# (epsilon-greedy and epsilon-z-greedy in the single-level transfer study),
# three for the rest.
SEEDS = {arm: 5 for arm in BT_ARMS + BASELINE_ARMS[:2]}
SEEDS.update({arm: 3 for arm in
              BASELINE_ARMS[2:] + ABLATION_ARMS + RETENTION_ARMS})
SEEDS.update({arm: 5 for arm in HANDOVER_ARMS})
# The far task: BT, the hand-overs, and BT with retention (the strongest
# agent on the hard tasks), whether keeping pi_p's behaviour carries BT to
# the last room, and retention without BT, to tell what BT adds to it; five
# seeds each (the goal counts learners out of five).
FAR_ARMS = (('bt',) + HANDOVER_ARMS +
            ('bt+partial_init+ks', 'epsilon_greedy+partial_init+ks'))
FAR_SEEDS = 5


def seeds_of(arm: str, family: str) -> int:
  """How many seeds the study runs of `arm` on `family` by default."""
  return FAR_SEEDS if family == FAR else SEEDS[arm]


def level(name: str) -> SuiteLevel:
  """The suite level `name`; an unknown name lists the valid ones."""
  levels = {lvl.name: lvl for lvl in SUITE}
  return levels[names.check_name('suite level', name, levels)]


def arms_of(level_name: str, family: str) -> Sequence[str]:
  """The arms the study runs on a level's family: every arm on the suite's
  families (the ablation on one level), the hand-overs also on the hard
  tasks; FAR_ARMS on the far task; the paper's arms on the once-charged
  hard twin, and with the retention arms on the door's."""
  if family == FAR:
    return FAR_ARMS
  if family == HARD_ONCE:
    return ARMS
  if family == DOOR_HARD:
    return ARMS + RETENTION_ARMS
  return (ARMS + (ABLATION_ARMS if level_name == ABLATION_LEVEL else ()) +
          RETENTION_ARMS + (HANDOVER_ARMS if family == 'hard' else ()))


def is_bt(arm: str) -> bool:
  return arm.split('+')[0] == 'bt'


def has_extra_action(arm: str) -> bool:
  """Whether the arm's agent has a+ (BT and the extra-action ablation)."""
  return arm.split('+')[0] in ('bt', 'extra_action')
