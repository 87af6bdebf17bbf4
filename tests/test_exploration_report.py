"""How pre-training reports pi_p's exploration next to a random policy's:
the ratio, the warning when pi_p is no explorer, and the progress line."""

import math
import os

from minigrid.core import world_object
import numpy as np
import pytest

from behavior_transfer import environments
from behavior_transfer.distributed import coordinator
from behavior_transfer.environments import measures
from behavior_transfer.environments import minigrid_play
from behavior_transfer.environments import rooms
from behavior_transfer.policies import evaluation


def test_ratio_is_the_best_measure_capped_by_coverage():
  random = {'distinct_cells': 6., 'doors_opened': 0.4,
            'objects_picked_up': 0.5}
  explorer = {'distinct_cells': 12.6, 'doors_opened': 0.9,
              'objects_picked_up': 0.9}
  assert measures.exploration_ratio(explorer, random) == 2.25  # Doors.
  # Picks the key up every time but covers less ground than random.
  hoarder = {'distinct_cells': 3., 'doors_opened': 0.,
             'objects_picked_up': 1.}
  assert measures.exploration_ratio(hoarder, random) == 0.5
  # A random policy that never opens a door counts as 0.05 per episode.
  assert measures.exploration_ratios({'doors_opened': 0.5},
                                     {'doors_opened': 0.})['doors_opened'] == 10
  # Nothing to measure exploration by: NaN, never a verdict.
  assert math.isnan(measures.exploration_ratio({'return_game': 1.},
                                               {'return_game': 0.}))


def test_warns_with_what_to_try_when_pi_p_is_no_explorer():
  random = {'distinct_cells': 14.6}
  none = evaluation.exploration_warning(
      {'pi_p': {'distinct_cells': 10.1}, 'random': random})
  assert 'no better than a uniformly random policy' in none
  assert '0.69x' in none and 'distinct_cells 10.10 vs 14.60' in none
  assert 'longer pre-training budget' in none and '--discount=0.95' in none
  assert '--initial_priority=100' in none
  assert '--rnd_statistics_horizon=1000' in none
  short = evaluation.exploration_warning(
      {'pi_p': {'distinct_cells': 21.9}, 'random': random})
  assert 'less than the 2x' in short
  assert evaluation.exploration_warning(
      {'pi_p': {'distinct_cells': 29.2}, 'random': random}) is None
  table = evaluation.format_comparison(
      {'pi_p': {'distinct_cells': 10.1}, 'random': random})
  assert 'WARNING' in table and 'explores 0.69x' in table


def test_the_warning_says_when_the_level_leaves_no_room_for_2x():
  """On a level a random policy already covers much of, the ceiling (a
  policy reaching everything reachable) is below 2x: the table shows it and
  the warning says so instead of only blaming pre-training."""
  cramped = {'pi_p': {'distinct_cells': 4., 'doors_opened': 2.},
             'random': {'distinct_cells': 2.8, 'doors_opened': 1.4},
             'reachable': {'distinct_cells': 5., 'doors_opened': 2.}}
  assert evaluation.exploration_ceiling(cramped) == pytest.approx(5 / 2.8)
  warning = evaluation.exploration_warning(cramped)
  assert 'This level allows at most 1.79x' in warning
  table = evaluation.format_comparison(cramped)
  assert '| distinct_cells | 4.000 | 2.800 | 5.000 |' in table
  assert 'would explore 1.79x as much' in table
  roomy = dict(cramped, reachable={'distinct_cells': 33., 'doors_opened': 1.})
  assert 'allows at most' not in evaluation.exploration_warning(roomy)
  # Reports made before the ceiling was measured still format.
  assert math.isnan(evaluation.exploration_ceiling(
      {'pi_p': cramped['pi_p'], 'random': cramped['random']}))
  assert 'most reachable' not in evaluation.format_comparison(
      {'pi_p': cramped['pi_p'], 'random': cramped['random']})


@pytest.mark.parametrize('level, most', [
    # Three one-cell rooms and the two doors between them; a key and a ball.
    ('KeyCorridorS3R1-v0',
     {'distinct_cells': 5., 'doors_opened': 2., 'objects_picked_up': 2.}),
    # Two 4x4 rooms and their door; the key and the box.
    ('UnlockPickup-v0',
     {'distinct_cells': 33., 'doors_opened': 1., 'objects_picked_up': 2.}),
    # 7x7 floor less a river of lava with one gap: 49 - 6.
    ('LavaCrossingS9N1-v0', {'distinct_cells': 43.}),
    # Its obstacles are balls, but its three actions pick nothing up.
    ('Dynamic-Obstacles-6x6-v0',
     {'distinct_cells': 16., 'objects_picked_up': 0.}),
])
def test_reachable_counts_what_the_layout_offers(level, most):
  env = environments.make_environment(f'minigrid:MiniGrid-{level}', seed=3)
  assert measures.reachable_measures(env, 3) == most


@pytest.mark.parametrize('level', ['MultiRoom-N4-S5-v0', 'KeyCorridorS3R2-v0'])
def test_no_episode_explores_beyond_the_reachable(level):
  """A random policy's every episode stays within what `reachable` counts
  at its reset, and a fresh environment of the same seed shows the same
  layouts without acting (what `compare_with_random` relies on)."""
  name = f'minigrid:MiniGrid-{level}'
  env = environments.make_environment(name, seed=5)
  base = measures.unwrap(env)
  observer = measures.TaskReturnsAndExploration(
      base, 'minigrid', random_baseline={'distinct_cells': 5.,
                                         'doors_opened': 0.5})
  rng = np.random.RandomState(0)
  at_reset = []
  for _ in range(4):
    timestep = env.reset()
    at_reset.append(measures.reachable(base.simulator))
    observer.observe_first(env, timestep)
    for _ in range(150):
      action = rng.randint(env.action_spec().num_values)
      timestep = env.step(np.int32(action))
      observer.observe(env, timestep, action)
      if timestep.last():
        break
    explored = observer.get_metrics()
    for measure, most in at_reset[-1].items():
      assert explored[measure] <= most, (measure, explored, at_reset[-1])
    # So the episode's ratio to random stays under its layout's ceiling.
    assert explored['exploration_ceiling'] == measures.exploration_ratio(
        at_reset[-1], {'distinct_cells': 5., 'doors_opened': 0.5})
    assert explored['exploration_vs_random'] <= explored['exploration_ceiling']
  assert at_reset[-1]['distinct_cells'] > 5  # A real layout was counted.
  assert measures.reachable_measures(
      environments.make_environment(name, seed=5), 4) == {
          key: np.mean([row[key] for row in at_reset]) for key in at_reset[0]}


def test_an_episode_ending_on_lava_counts_its_cell():
  """Stepping onto lava ends the episode on the lava's cell: a walk over the
  whole floor that ends there stands on one cell more than the floor, and
  the ceiling allows for it (on levels with a goal, the goal is that cell)."""
  env = environments.make_environment('minigrid:MiniGrid-Empty-5x5-v0', seed=0)
  base = measures.unwrap(env)
  timestep = env.reset()
  simulator = base.simulator
  lava = minigrid_play.find(simulator, 'goal')
  simulator.grid.set(*lava, world_object.Lava())
  floor = rooms.reachable_area(simulator, tuple(simulator.agent_pos))
  assert len(floor) == 8 and measures.reachable(simulator) == {
      'distinct_cells': 9.}
  observer = measures.TaskReturnsAndExploration(base, 'minigrid')
  observer.observe_first(env, timestep)
  for cell in sorted(floor):
    for action in minigrid_play.reach(simulator, cell):
      timestep = env.step(np.int32(action))
      observer.observe(env, timestep, action)
  for action in minigrid_play.face(simulator, lava) + [minigrid_play.FORWARD]:
    timestep = env.step(np.int32(action))
    observer.observe(env, timestep, action)
  assert timestep.last()
  assert observer.get_metrics()['distinct_cells'] == 9


def test_progress_line_shows_the_evaluators_exploration(tmp_path):
  budget = coordinator.StepBudget(None, 10, lambda: None, str(tmp_path))
  assert budget._exploration() == ''  # pylint: disable=protected-access
  os.makedirs(tmp_path / 'logs' / 'evaluator')
  with open(tmp_path / 'logs' / 'evaluator' / 'logs.csv', 'w') as f:
    f.write('actor_steps,exploration_vs_random,exploration_ceiling\n')
    f.writelines(f'{i},{value},4.5\n' for i, value in enumerate([9.] * 5 + [
        1.] * 5 + [3.] * 5))
  # The last ten episodes: five at 1x, five at 3x.
  line = budget._exploration()  # pylint: disable=protected-access
  assert 'pi_p explores 2.00x a random policy' in line
  assert 'the layouts allow 4.50x' in line
