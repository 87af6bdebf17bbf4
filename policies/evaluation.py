"""Zero-shot scores and exploration of a pre-trained pi_p next to a random policy."""

import math
from typing import Dict, Optional

from behavior_transfer import environments
from behavior_transfer.environments import measures
from behavior_transfer.policies import pretrained


def policy_measures(policy: pretrained.PretrainedPolicy, environment: str,
                    num_episodes: int, seed: int = 0,
                    max_steps: Optional[int] = None) -> Dict[str, float]:
  """Mean per-episode return under every task of the domain, and
  exploration; episodes end at the game's end or after `max_steps`."""
  return measures.mean_episode_measures(
      environments.make_environment(environment, 'game', seed=seed),
      environments.parse(environment).domain, policy.step,
      policy.initial_state, num_episodes, max_steps)


def compare_with_random(policy_dir: str, environment: str, num_episodes: int,
                        seed: int = 0, max_steps: Optional[int] = None,
                        epsilon: float = 0.
                        ) -> Dict[str, Dict[str, float]]:
  """{'pi_p': measures, 'random': measures} over the same episodes' seeds;
  with `epsilon`, pi_p acts at random with that probability each step. On
  MiniGrid also 'reachable': the most each exploration measure could reach
  over those episodes' layouts (measures.reachable)."""
  exported = pretrained.ExportedPolicy(policy_dir)
  policy = (pretrained.EpsilonPolicy(exported, epsilon, seed) if epsilon
            else exported)
  comparison = {
      'pi_p': policy_measures(policy, environment, num_episodes, seed,
                              max_steps),
      'random': policy_measures(
          pretrained.RandomPolicy(exported.num_actions, seed), environment,
          num_episodes, seed, max_steps),
  }
  reachable = measures.reachable_measures(
      environments.make_environment(environment, 'game', seed=seed),
      num_episodes)
  if reachable:
    comparison['reachable'] = reachable
  return comparison


def format_comparison(comparison: Dict[str, Dict[str, float]],
                      epsilon: float = 0.) -> str:
  """A small table: one row per measure, pi_p (acting at random with
  probability `epsilon`) next to the random policy and, where known, the
  most the level lets any policy reach."""
  acting = f'epsilon {epsilon:g}' if epsilon else 'greedy'
  reachable = comparison.get('reachable')
  columns = ['measure (mean per episode)', f'pi_p ({acting})',
             'uniform random'] + (['most reachable'] if reachable else [])
  lines = ['| ' + ' | '.join(columns) + ' |',
           '|---|' + '---:|' * (len(columns) - 1)]
  for key in comparison['pi_p']:
    cells = [key, f'{comparison["pi_p"][key]:.3f}',
             f'{comparison["random"][key]:.3f}']
    if reachable:
      cells.append(f'{reachable[key]:.3f}' if key in reachable else '-')
    lines.append('| ' + ' | '.join(cells) + ' |')
  lines.append(f'\npi_p explores {exploration_ratio(comparison):.2f}x as much '
               'as the random policy (best of the level\'s exploration '
               'measures, capped by its distinct cells).')
  ceiling = exploration_ceiling(comparison)
  if not math.isnan(ceiling):
    lines.append(f'A policy reaching everything reachable in every episode '
                 f'would explore {ceiling:.2f}x as much.')
  warning = exploration_warning(comparison)
  return '\n'.join(lines + ([warning] if warning else []))


# What a pre-trained explorer should reach: this many times a uniformly random
# policy's exploration, by the level's measures (measures.exploration_ratio).
EXPLORER_FACTOR = 2.0

_WHAT_TO_TRY = (
    'Try, in this order: a shorter horizon (--discount=0.95, or '
    'run_pipeline\'s --pretrain_discount=0.95; on KeyCorridorS3R1 and '
    'UnlockPickup it stopped greedy pi_p turning on the spot or looping); '
    'new sequences replayed first (--initial_priority=100, or '
    'run_pipeline\'s --pretrain_initial_priority=100); alpha\'s RND '
    'statistics over the latest errors (run_ngu\'s '
    '--rnd_statistics_horizon=1000; over all errors alpha stays at 1); all '
    'three are MiniGrid pre-training\'s defaults; a longer pre-training '
    'budget (--pretrain_steps or --max_actor_steps; UnlockPickup\'s '
    'explorers took 0.6M-1.8M steps); another seed; '
    '--nornd_observation_normalization (raw RND inputs explored further on '
    'MultiRoom); or pre-training on a larger level with the same objects, '
    'whose pi_p transfers by name like any other. mean_lifelong_modulation '
    'in logs/actor_*/logs.csv shows alpha.')


def exploration_ratio(comparison: Dict[str, Dict[str, float]]) -> float:
  """pi_p's exploration in units of the random policy's."""
  return measures.exploration_ratio(comparison['pi_p'], comparison['random'])


def exploration_ceiling(comparison: Dict[str, Dict[str, float]]) -> float:
  """The most `exploration_ratio` can be on these episodes' layouts: that of a
  policy reaching every reachable cell, door and object; NaN unknown."""
  if 'reachable' not in comparison:
    return float('nan')
  return measures.exploration_ratio(comparison['reachable'],
                                    comparison['random'])


def exploration_warning(comparison: Dict[str, Dict[str, float]],
                        factor: float = EXPLORER_FACTOR) -> Optional[str]:
  """None when pi_p explores at least `factor` times as much as a random
  policy; otherwise a warning that says by how much it falls short and what
  to try, or that the level itself leaves no room for `factor`."""
  ratio = exploration_ratio(comparison)
  if not ratio < factor:  # Also NaN: nothing to measure exploration by.
    return None
  ratios = measures.exploration_ratios(comparison['pi_p'],
                                       comparison['random'])
  detail = ', '.join(
      f'{name} {comparison["pi_p"][name]:.2f} vs {comparison["random"][name]:.2f}'
      for name in ratios)
  verdict = ('no better than a uniformly random policy: pre-training '
             'produced no explorer' if ratio <= 1 else
             f'less than the {factor:g}x a pre-trained explorer should')
  ceiling = exploration_ceiling(comparison)
  room = (f' This level allows at most {ceiling:.2f}x (a random policy '
          'already reaches much of what is reachable), so judge pi_p by how '
          'close it comes to that.' if ceiling < factor else '')
  return (f'WARNING: pi_p explores {ratio:.2f}x as much as a uniformly random '
          f'policy ({detail}), {verdict}.{room} BT transfers pi_p\'s '
          f'behaviour, so expect little from it here. {_WHAT_TO_TRY}')
