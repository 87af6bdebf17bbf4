r"""How far apart a pi_p's Q-values for different actions are, next to the values.

  python -m benchmarks.action_gaps [--policies=ngu_doorkey,ngu_multiroom,...]
      [--episodes=5] [--json=docs/action_gaps.json]

A pi_p pre-trained without reward acts greedily on its Q-values. Where those
values are large next to the differences between actions (a long discounted
sum of intrinsic reward that barely depends on the next action), small
systematic errors decide the argmax and the greedy policy can collapse onto
one action: KeyCorridorS3R1's pi_p at discount 0.99 turns left for whole
episodes (docs/transfer_suite.md). Per policy, over `--episodes` greedy
episodes of its level: mean Q, mean spread (max - min over actions), the
spread relative to |mean Q|, the entropy (bits) of which action is the
argmax, and the distinct cells a greedy episode covers.

MiniGrid pi_p only. A policy is a bundled name (its level from its provenance) or
`exported:<dir>@<level>` (a pre-training run's <run_dir>/policy).
"""

from typing import Dict

from absl import app
from absl import flags
from acme.tf import utils as tf2_utils
import numpy as np

from behavior_transfer import environments
from behavior_transfer.environments import measures
from behavior_transfer.policies import pretrained
from benchmarks import figures
from benchmarks import minigrid_policies

FLAGS = flags.FLAGS
flags.DEFINE_list(
    'policies', 'ngu_doorkey,ngu_multiroom,ngu_unlockpickup_looper',
    'Bundled names, or exported:<dir>@<level> for a run\'s exported pi_p.')
flags.DEFINE_integer('episodes', 5, 'Greedy episodes per policy.')
flags.DEFINE_integer('seed', 0, 'Seeds the levels\' layouts.')
flags.DEFINE_string('json', 'docs/action_gaps.json',
                    'Where to write the figures.')


def measure(policy_dir: str, level: str, episodes: int,
            seed: int) -> Dict[str, float]:
  """Q-value scale, spread and argmax diversity along greedy episodes."""
  policy = pretrained.ExportedPolicy(policy_dir)
  environment = environments.make_environment(level, 'game', seed=seed)
  simulator = measures.unwrap(environment).simulator
  values, cells = [], []
  for _ in range(episodes):
    timestep, state = environment.reset(), policy.initial_state()
    visited = {tuple(simulator.agent_pos)}
    while not timestep.last():
      q, state = policy.tf_values_step(
          tf2_utils.add_batch_dim(timestep.observation), state)
      q = np.asarray(q)[0]
      values.append(q)
      timestep = environment.step(np.int32(np.argmax(q)))
      visited.add(tuple(simulator.agent_pos))
    cells.append(len(visited))
  values = np.array(values)
  spread = values.max(axis=1) - values.min(axis=1)
  argmax = np.bincount(values.argmax(axis=1), minlength=values.shape[1])
  share = argmax[argmax > 0] / argmax.sum()
  return {
      'mean_q': float(values.mean()),
      'mean_spread': float(spread.mean()),
      'spread_over_q': float(spread.mean() / abs(values.mean())),
      'argmax_entropy_bits': abs(float((share * np.log2(share)).sum())),
      'distinct_cells': float(np.mean(cells)),
  }


def main(_):
  rows = {}
  print('| pi_p | level | mean Q | spread | spread / Q | argmax entropy '
        '(bits) | distinct cells |\n|---|---|---:|---:|---:|---:|---:|')
  for policy in FLAGS.policies:
    policy_dir, level = minigrid_policies.resolve(policy)
    row = rows[policy] = {'level': level, **measure(
        policy_dir, level, FLAGS.episodes, FLAGS.seed)}
    label = policy.split('@')[0].replace('exported:', '')
    print(f'| {label} | {level.split(":")[-1]} | {row["mean_q"]:.1f} | '
          f'{row["mean_spread"]:.2f} | {row["spread_over_q"]:.3f} | '
          f'{row["argmax_entropy_bits"]:.2f} | {row["distinct_cells"]:.1f} |',
          flush=True)
  figures.write(FLAGS.json, 'benchmarks.action_gaps',
                {'episodes': FLAGS.episodes, 'seed': FLAGS.seed,
                 'policies': rows})


if __name__ == '__main__':
  app.run(main)
