"""Zero-shot scores and exploration of a pre-trained pi_p next to a random policy."""

from typing import Dict, Optional

import numpy as np

from behavior_transfer import environments
from behavior_transfer.environments import measures
from behavior_transfer.policies import pretrained


def policy_measures(policy: pretrained.PretrainedPolicy, environment: str,
                    num_episodes: int, seed: int = 0,
                    max_steps: Optional[int] = None) -> Dict[str, float]:
  """Mean per-episode return under every task of the domain, and
  exploration; episodes end at the game's end or after `max_steps`."""
  domain = environments.parse(environment).domain
  env = environments.make_environment(environment, 'game', seed=seed)
  observer = measures.TaskReturnsAndExploration(measures.unwrap(env), domain)
  rows = []
  for _ in range(num_episodes):
    timestep = env.reset()
    observer.observe_first(env, timestep)
    state = policy.initial_state()
    steps = 0
    while not timestep.last() and steps != max_steps:
      steps += 1
      action, state = policy.step(timestep.observation, state)
      timestep = env.step(np.int32(action))
      observer.observe(env, timestep, action)
    rows.append(observer.get_metrics())
  return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def compare_with_random(policy_dir: str, environment: str, num_episodes: int,
                        seed: int = 0, max_steps: Optional[int] = None
                        ) -> Dict[str, Dict[str, float]]:
  """{'pi_p': measures, 'random': measures} over the same episodes' seeds."""
  exported = pretrained.ExportedPolicy(policy_dir)
  return {
      'pi_p': policy_measures(exported, environment, num_episodes, seed,
                              max_steps),
      'random': policy_measures(
          pretrained.RandomPolicy(exported.num_actions, seed), environment,
          num_episodes, seed, max_steps),
  }


def format_comparison(comparison: Dict[str, Dict[str, float]]) -> str:
  """A small table: one row per measure, pi_p next to the random policy."""
  lines = ['| measure (mean per episode) | pi_p (greedy) | uniform random |',
           '|---|---:|---:|']
  for key in comparison['pi_p']:
    lines.append(f'| {key} | {comparison["pi_p"][key]:.3f} | '
                 f'{comparison["random"][key]:.3f} |')
  return '\n'.join(lines)
