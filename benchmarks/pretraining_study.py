r"""Which reward-free pre-training learns to explore: NGU, RND, constant reward.

  python -m benchmarks.pretraining_study [--max_actor_steps=500000] \
      [--arms=ngu,rnd,constant,ngu_raw_rnd_inputs,ngu_n_step_5,...]

Pre-trains one pi_p per arm on the same dynamics (default
MiniGrid-MultiRoom-N4-S5-v0: six rooms joined by closed doors, 120-step
episodes) with the small-domain preset, then reports:
* learning curves of the greedy pi_p's exploration against pre-training
  steps, read from each run's evaluator (distinct cells, rooms reached,
  fraction of episodes reaching the last room, zero-shot return under each
  task), with a uniformly random policy as the reference line
  (docs/pretraining_exploration.png);
* the final exported pi_p of every arm over `--episodes` fixed-seed episodes
  next to the random policy: the table, and its rooms reached as a multiple
  of random's;
* the NGU ablations: one changed detail per arm (see ARMS).
Runs live in --out_dir/<arm>; an interrupted study resumes. Figures go to
--json.
"""

import os
from typing import Any, Dict, List

from absl import app
from absl import flags
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.launching import reports
from behavior_transfer.policies import evaluation
from behavior_transfer.policies import pretrained
from benchmarks import figures

# arm -> (intrinsic reward, R2D2 overrides, NGU overrides, what it tests).
ARMS = {
    'ngu': ('ngu', {}, {}, 'this project\'s NGU defaults'),
    'rnd': ('rnd', {}, {}, 'RND error alone, no episodic novelty'),
    'constant': ('constant', {}, {}, '+1 per step'),
    'ngu_raw_rnd_inputs': ('ngu', {}, {'rnd_observation_normalization': False},
                           'RND inputs not whitened'),
    'ngu_n_step_5': ('ngu', {'n_step': 5}, {}, 'n = 5 instead of 3'),
    'ngu_models_on_whole_batch': ('ngu', {}, {'intrinsic_batch_fraction': 1.},
                                  'embedding/RND trained on every sequence'),
}
MEASURES = ('distinct_cells', 'rooms_reached', 'reached_last_room')

FLAGS = flags.FLAGS
flags.DEFINE_string('environment', 'minigrid:MiniGrid-MultiRoom-N4-S5-v0',
                    'Dynamics of the pre-training.')
flags.DEFINE_list('arms', list(ARMS), f'Arms, from: {", ".join(ARMS)}.')
flags.DEFINE_integer('max_actor_steps', 500_000, 'Budget of every arm.')
flags.DEFINE_integer('seed', 0, 'Seed of every arm.')
flags.DEFINE_integer('episodes', 50, 'Fixed-seed episodes for the final '
                     'pi_p of each arm and the random policy.')
flags.DEFINE_integer('window', 20, 'Evaluator episodes per point of the '
                     'learning curves (rolling mean).')
flags.DEFINE_string('out_dir', 'runs/bench_pretraining', 'Where runs go.')
flags.DEFINE_string('plot', 'docs/pretraining_exploration.png',
                    'The learning-curve figure.')
flags.DEFINE_string('json', 'docs/pretraining_study.json',
                    'Where to write the figures.')


def pretrain_arm(arm: str) -> str:
  reward, r2d2_overrides, ngu_overrides, _ = ARMS[arm]
  spec = experiments.override(
      experiments.from_preset('ngu', FLAGS.environment, FLAGS.max_actor_steps,
                              seed=FLAGS.seed),
      r2d2=r2d2_overrides,
      config=dict(intrinsic_reward=ngu_config.IntrinsicReward(reward),
                  **ngu_overrides))
  run_dir = os.path.join(FLAGS.out_dir, arm)
  experiments.run(spec, run_dir)
  return run_dir


def exploration_curves(run_dir: str, columns: List[str]) -> Dict[str, Any]:
  """The greedy evaluator's measures against actor steps, smoothed."""
  evaluator = reports.read_logs(run_dir)['evaluator']
  smoothed = evaluator[columns].rolling(FLAGS.window, 1).mean()
  return {'actor_steps': evaluator['actor_steps'].tolist(),
          **{c: smoothed[c].round(4).tolist() for c in columns}}


def plot(curves: Dict[str, Dict[str, Any]], random: Dict[str, float],
         columns: List[str], path: str) -> None:
  fig, axes = plt.subplots(2, (len(columns) + 1) // 2,
                           figsize=(4.5 * ((len(columns) + 1) // 2), 8))
  for ax, column in zip(axes.flat, columns):
    for arm, curve in curves.items():
      ax.plot(curve['actor_steps'], curve[column], label=arm)
    ax.axhline(random[column], color='k', linestyle='--', label='random')
    ax.set_title(column)
    ax.set_xlabel('pre-training actor steps')
  axes.flat[0].legend(fontsize=8)
  for ax in list(axes.flat)[len(columns):]:
    ax.axis('off')
  fig.suptitle(f'Greedy pi_p during reward-free pre-training on '
               f'{FLAGS.environment} (evaluator, mean of {FLAGS.window} '
               'episodes)')
  fig.tight_layout()
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  fig.savefig(path, dpi=90)
  plt.close(fig)


def main(_):
  for arm in FLAGS.arms:
    if arm not in ARMS:
      raise ValueError(f'Unknown arm {arm!r}; valid: {", ".join(ARMS)}.')
  run_dirs = {arm: pretrain_arm(arm) for arm in FLAGS.arms}
  num_actions = environments.make_environment(
      FLAGS.environment, 'game').action_spec().num_values
  random = evaluation.policy_measures(
      pretrained.RandomPolicy(num_actions, FLAGS.seed), FLAGS.environment,
      FLAGS.episodes, FLAGS.seed)
  finals = {arm: evaluation.policy_measures(
      pretrained.ExportedPolicy(experiments.policy_dir(run_dir)),
      FLAGS.environment, FLAGS.episodes, FLAGS.seed)
            for arm, run_dir in run_dirs.items()}
  returns = sorted(k for k in random if k.startswith('return_') and
                   k != 'return_none')
  columns = [c for c in MEASURES if c in random] + returns
  curves = {arm: exploration_curves(run_dir, columns)
            for arm, run_dir in run_dirs.items()}
  plot(curves, random, columns, FLAGS.plot)

  # The greedy policy can change markedly between checkpoints: the
  # evaluator's last episodes next to the final export show by how much.
  late_rooms = {arm: float(np.mean(curve['rooms_reached'][-1:]))
                for arm, curve in curves.items()} if 'rooms_reached' in random else {}
  header = ['pi_p of', 'what it tests'] + columns + ['rooms vs random']
  lines = [f'Final greedy pi_p after {FLAGS.max_actor_steps:,} reward-free '
           f'actor steps on {FLAGS.environment}, {FLAGS.episodes} fixed-seed '
           f'episodes each (seed {FLAGS.seed}):',
           '| ' + ' | '.join(header) + ' |',
           '|---|---|' + '---:|' * (len(header) - 2)]
  rows = {**finals, 'random': random}
  for arm, row in rows.items():
    ratio = (row.get('rooms_reached', np.nan) /
             random.get('rooms_reached', np.nan))
    lines.append('| ' + ' | '.join(
        [arm, ARMS[arm][3] if arm in ARMS else 'uniformly random actions'] +
        [f'{row[c]:.3f}' for c in columns] + [f'{ratio:.2f}x']) + ' |')
  if late_rooms:
    lines.append(f'\nrooms_reached of the evaluator\'s last {FLAGS.window} '
                 'greedy episodes (latest weights, other layouts): ' + ', '.join(
                     f'{arm} {value:.2f}' for arm, value in late_rooms.items()))
  lines.append(f'\nlearning curves: {FLAGS.plot}')
  print('\n'.join(lines), flush=True)
  figures.write(FLAGS.json, 'benchmarks.pretraining_study', {
      'environment': FLAGS.environment, 'seed': FLAGS.seed,
      'max_actor_steps': FLAGS.max_actor_steps, 'episodes': FLAGS.episodes,
      'final': rows, 'evaluator_last_rooms_reached': late_rooms,
      'arms': {arm: ARMS[arm][3] for arm in run_dirs},
      'curves': curves})


if __name__ == '__main__':
  app.run(main)
