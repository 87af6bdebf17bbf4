r"""The small-domain transfer study: pre-train once, transfer to three tasks.

  python -m benchmarks.transfer_study [--seeds=0,1,2] [--transfer_steps=30000]

Pre-trains pi_p once with NGU, reward-free, on MiniGrid-MultiRoom-N2-S4, prints
its zero-shot returns and exploration next to a random policy's, then on each
task (game, goal_in_half_time, deceptive_first_room) runs epsilon-greedy,
epsilon-z-greedy, full and partial weight initialisation, BT, and BT with
partial initialisation for every seed. Prints a table per task (mean [min,
max] over seeds) and writes transfer_<task>.png. Runs live in
runs/bench_transfer/...; an interrupted study resumes.
"""

import dataclasses
import os

from absl import app
from absl import flags
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from behavior_transfer.agents.ngu import evaluation
from behavior_transfer.agents.ngu import experiment as ngu_experiment
from behavior_transfer.studies import pipeline
from behavior_transfer.utils import reports
from benchmarks import study

FLAGS = flags.FLAGS
flags.DEFINE_list('seeds', ['0', '1', '2'], 'Transfer seeds.')
flags.DEFINE_list('tasks', ['game', 'goal_in_half_time', 'deceptive_first_room'],
                  'Transfer tasks over the pre-training dynamics.')
flags.DEFINE_list('arms', ['epsilon_greedy', 'ez_greedy',
                           'epsilon_greedy+full_init',
                           'epsilon_greedy+partial_init', 'bt',
                           'bt+partial_init'], 'Downstream agents.')
flags.DEFINE_integer('pretrain_steps', 30_000, 'NGU pre-training budget.')
flags.DEFINE_integer('transfer_steps', 30_000, 'Budget of each transfer run.')
flags.DEFINE_string('out_dir', 'runs/bench_transfer', 'Where runs go.')


def spread(values) -> str:
  values = np.asarray(values, float)
  return f'{values.mean():.2f} [{values.min():.2f}, {values.max():.2f}]'


def main(_):
  settings = pipeline.PipelineSettings(
      arms=pipeline.parse_arms(FLAGS.arms), pretrain_steps=FLAGS.pretrain_steps,
      transfer_steps=FLAGS.transfer_steps)
  pretrain_dir = pipeline.pretrain(settings, FLAGS.out_dir)
  comparison = evaluation.compare_with_random(
      ngu_experiment.policy_dir(pretrain_dir), settings.environment, 50)
  report = [f'Pre-trained pi_p ({FLAGS.pretrain_steps} reward-free NGU steps) '
            'against a uniformly random policy, 50 episodes each:',
            evaluation.format_comparison(comparison)]
  grid = np.linspace(0, FLAGS.transfer_steps, 150)
  for task in FLAGS.tasks:
    runs = {arm.name: [] for arm in settings.arms}
    for seed in map(int, FLAGS.seeds):
      seeded = dataclasses.replace(settings, seed=seed)
      seed_dir = os.path.join(FLAGS.out_dir, f'seed_{seed}')
      for name, run_dir in pipeline.transfer(seeded, pretrain_dir, seed_dir,
                                             task).items():
        runs[name].append(run_dir)
    report += [f'\nTask {task!r}, {FLAGS.transfer_steps} actor steps per run, '
               f'seeds {",".join(FLAGS.seeds)}; mean [min, max] over seeds',
               '| agent | final evaluator return (mean of 5) | actor return, '
               'last 25% of steps | actor episodes solved |',
               '|---|---:|---:|---:|']
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, run_dirs in runs.items():
      late, solved = [], []
      for run_dir in run_dirs:
        episodes = reports.actor_episodes(reports.read_logs(run_dir))
        late.append(episodes['episode_return'][
            episodes['actor_steps'] > 0.75 * FLAGS.transfer_steps].mean())
        solved.append((episodes['episode_return'] > 0).mean())
      report.append(
          f'| {name} | {spread([pipeline.evaluator_return(d) for d in run_dirs])} '
          f'| {spread(late)} | {spread(solved)} |')
      curves = np.stack([study.on_grid(*study.evaluator_curve(d), grid)
                         for d in run_dirs])
      ax.plot(grid, curves.mean(0), label=name)
    ax.set_xlabel('actor steps (2 actors)')
    ax.set_ylabel('greedy evaluator return (mean of 3, mean over seeds)')
    ax.set_title(f'Transfer to {task} after NGU pre-training')
    ax.legend()
    fig.tight_layout()
    plot = os.path.join(FLAGS.out_dir, f'transfer_{task}.png')
    fig.savefig(plot, dpi=100)
    plt.close(fig)
    report.append(f'plot: {plot}')
  print('\n'.join(report), flush=True)


if __name__ == '__main__':
  app.run(main)
