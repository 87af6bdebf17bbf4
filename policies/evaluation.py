"""Zero-shot scores and exploration of a pre-trained pi_p next to a random policy."""

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
  with `epsilon`, pi_p acts at random with that probability each step."""
  exported = pretrained.ExportedPolicy(policy_dir)
  policy = (pretrained.EpsilonPolicy(exported, epsilon, seed) if epsilon
            else exported)
  return {
      'pi_p': policy_measures(policy, environment, num_episodes, seed,
                              max_steps),
      'random': policy_measures(
          pretrained.RandomPolicy(exported.num_actions, seed), environment,
          num_episodes, seed, max_steps),
  }


def format_comparison(comparison: Dict[str, Dict[str, float]],
                      epsilon: float = 0.) -> str:
  """A small table: one row per measure, pi_p (acting at random with
  probability `epsilon`) next to the random policy."""
  acting = f'epsilon {epsilon:g}' if epsilon else 'greedy'
  lines = [f'| measure (mean per episode) | pi_p ({acting}) | uniform random |',
           '|---|---:|---:|']
  for key in comparison['pi_p']:
    lines.append(f'| {key} | {comparison["pi_p"][key]:.3f} | '
                 f'{comparison["random"][key]:.3f} |')
  lines.append(f'\npi_p explores {exploration_ratio(comparison):.2f}x as much '
               'as the random policy (best of the level\'s exploration '
               'measures, capped by its distinct cells).')
  warning = exploration_warning(comparison)
  return '\n'.join(lines + ([warning] if warning else []))


# What a pre-trained explorer should reach: this many times a uniformly random
# policy's exploration, by the level's measures (measures.exploration_ratio).
EXPLORER_FACTOR = 2.0

_WHAT_TO_TRY = (
    'Try, in this order: a shorter horizon (--discount=0.95, or '
    'run_pipeline\'s --pretrain_discount=0.95; on KeyCorridorS3R1 and '
    'UnlockPickup it stopped greedy pi_p turning on the spot or looping); '
    'a longer pre-training budget (--pretrain_steps or '
    '--max_actor_steps; the suite\'s explorers took 1M-2M steps); '
    'another seed; --nornd_observation_normalization (raw RND inputs '
    'explored further on MultiRoom); or pre-training on a larger level with '
    'the same objects, whose pi_p transfers by name like any other.')


def exploration_ratio(comparison: Dict[str, Dict[str, float]]) -> float:
  """pi_p's exploration in units of the random policy's."""
  return measures.exploration_ratio(comparison['pi_p'], comparison['random'])


def exploration_warning(comparison: Dict[str, Dict[str, float]],
                        factor: float = EXPLORER_FACTOR) -> Optional[str]:
  """None when pi_p explores at least `factor` times as much as a random
  policy; otherwise a warning that says by how much it falls short and what
  to try."""
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
  return (f'WARNING: pi_p explores {ratio:.2f}x as much as a uniformly random '
          f'policy ({detail}), {verdict}. BT transfers pi_p\'s behaviour, so '
          f'expect little from it here. {_WHAT_TO_TRY}')
