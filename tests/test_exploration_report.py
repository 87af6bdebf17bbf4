"""How pre-training reports pi_p's exploration next to a random policy's:
the ratio, the warning when pi_p is no explorer, and the progress line."""

import math
import os

from behavior_transfer.distributed import coordinator
from behavior_transfer.environments import measures
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
  short = evaluation.exploration_warning(
      {'pi_p': {'distinct_cells': 21.9}, 'random': random})
  assert 'less than the 2x' in short
  assert evaluation.exploration_warning(
      {'pi_p': {'distinct_cells': 29.2}, 'random': random}) is None
  table = evaluation.format_comparison(
      {'pi_p': {'distinct_cells': 10.1}, 'random': random})
  assert 'WARNING' in table and 'explores 0.69x' in table


def test_progress_line_shows_the_evaluators_exploration(tmp_path):
  budget = coordinator.StepBudget(None, 10, lambda: None, str(tmp_path))
  assert budget._exploration() == ''  # pylint: disable=protected-access
  os.makedirs(tmp_path / 'logs' / 'evaluator')
  with open(tmp_path / 'logs' / 'evaluator' / 'logs.csv', 'w') as f:
    f.write('actor_steps,exploration_vs_random\n')
    f.writelines(f'{i},{value}\n' for i, value in enumerate([9.] * 5 + [
        1.] * 5 + [3.] * 5))
  # The last ten episodes: five at 1x, five at 3x.
  assert 'pi_p explores 2.00x a random policy' in budget._exploration()  # pylint: disable=protected-access
