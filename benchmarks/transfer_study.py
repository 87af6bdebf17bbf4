r"""The transfer study: one pi_p, several tasks on its dynamics, seven agents.

  python -m benchmarks.transfer_study [--seeds=0,1,2] [--transfer_steps=150000]

pi_p is the bundled NGU policy (`--bundled`, default ngu_multiroom: 2M
reward-free steps on MiniGrid-MultiRoom-N4-S5-v0; `--bundled=` pre-trains one
in --out_dir instead). On each task over the same dynamics:
  reach_third_room      +1 on first entering the third room (sparse, aligned
                        with pi_p, which walks through the rooms);
  reach_last_room       +1 on first entering the sixth, last room (harder);
  deceptive_first_room  0.01 per step in the first room plus the level's
                        goal (misaligned: pi_p leaves the first room);
(`--tasks=game` adds the level's goal tile, which pi_p never steps on);
it runs epsilon-greedy, epsilon-z-greedy, flights only, extra action only, BT,
epsilon-greedy with partial weight init and BT with partial weight init, for
every seed at equal budget. Per task it reports, mean [min, max] over seeds:
* success: the fraction of greedy evaluator episodes that solve the task
  (its sparse reward; on deceptive_first_room the goal) in the last quarter
  of the budget, and of actor episodes over the whole run;
* AUC: the greedy evaluator's task return averaged over the whole budget
  (area under its learning curve / budget);
and draws the evaluator's learning curves (the paper's figure 3) and, for the
arms with the extra action, the fraction of greedy steps that pick a+ (its
figure 4). Runs live in --out_dir/seed_<s>/transfer/<task>/<arm>; an
interrupted study resumes. Figures go to --json.
"""

import dataclasses
import os
from typing import Dict, List

from absl import app
from absl import flags
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from behavior_transfer.launching import reports
from behavior_transfer.policies import evaluation
from behavior_transfer.studies import pipeline
from benchmarks import figures
from benchmarks import study

FLAGS = flags.FLAGS
flags.DEFINE_string('environment', 'minigrid:MiniGrid-MultiRoom-N4-S5-v0',
                    'Dynamics of every task.')
flags.DEFINE_string('bundled', 'ngu_multiroom', 'The bundled pi_p; empty: '
                    'pre-train one in --out_dir for --pretrain_steps.')
flags.DEFINE_integer('pretrain_steps', 1_000_000, 'NGU pre-training budget '
                     'when --bundled is empty.')
flags.DEFINE_list('seeds', ['0', '1', '2'], 'Transfer seeds.')
flags.DEFINE_list('tasks', ['reach_third_room', 'reach_last_room',
                            'deceptive_first_room'],
                  'Transfer tasks over the pre-training dynamics.')
flags.DEFINE_list('arms', ['epsilon_greedy', 'ez_greedy', 'flights',
                           'extra_action', 'bt', 'epsilon_greedy+partial_init',
                           'bt+partial_init'], 'Downstream agents.')
flags.DEFINE_integer('transfer_steps', 150_000, 'Budget of each transfer run.')
flags.DEFINE_integer('report_episodes', 50, 'Episodes of pi_p and of a random '
                     'policy for the zero-shot report.')
flags.DEFINE_string('out_dir', 'runs/bench_transfer', 'Where runs go.')
flags.DEFINE_string('plot_dir', 'docs', 'Where the figures go.')
flags.DEFINE_string('json', 'docs/transfer_study.json',
                    'Where to write the figures.')


def spread(values) -> str:
  values = np.asarray(values, float)
  return f'{values.mean():.3f} [{values.min():.3f}, {values.max():.3f}]'


def run_measures(run_dir: str, task: str, budget: int) -> Dict[str, float]:
  """Success rates and AUC of one transfer run."""
  logs = reports.read_logs(run_dir)
  episodes = reports.actor_episodes(logs)
  evaluator = logs['evaluator']
  late = evaluator[evaluator['actor_steps'] >= 0.75 * budget]
  grid = np.linspace(0, budget, 200)
  steps, returns = study.evaluator_curve(run_dir, window=1)
  return {
      'evaluator_success_late': float(pipeline.solved(late, task).mean()),
      'actor_success': float(pipeline.solved(episodes, task).mean()),
      'auc': float(study.on_grid(steps, returns, grid).mean()),
  }


def curves(run_dirs: List[str], column: str, grid: np.ndarray) -> np.ndarray:
  """[seeds, grid] of an evaluator column (mean of 5 episodes) on `grid`."""
  return np.stack([
      study.on_grid(*study.evaluator_curve(d, window=5, column=column), grid)
      for d in run_dirs])


def plot_task(task: str, runs: Dict[str, List[str]], grid: np.ndarray,
              extra_action_arms: List[str]) -> str:
  fig, (ax_return, ax_plus) = plt.subplots(1, 2, figsize=(13, 4.5))
  for name, run_dirs in runs.items():
    values = curves(run_dirs, 'episode_return', grid)
    line, = ax_return.plot(grid, values.mean(0), label=name)
    ax_return.fill_between(grid, values.min(0), values.max(0), alpha=0.15,
                           color=line.get_color())
    if name in extra_action_arms:
      plus = curves(run_dirs, 'greedy_extra_action_fraction', grid)
      ax_plus.plot(grid, plus.mean(0), label=name, color=line.get_color())
  ax_return.set_ylabel('greedy evaluator return (mean of 5; seeds: mean, '
                       'min-max)')
  ax_plus.set_ylabel('greedy steps choosing a+ (mean over seeds)')
  for ax in (ax_return, ax_plus):
    ax.set_xlabel('transfer actor steps')
    ax.legend(fontsize=8)
  fig.suptitle(f'Transfer to {task} on {FLAGS.environment}')
  fig.tight_layout()
  path = os.path.join(FLAGS.plot_dir, f'transfer_{task}.png')
  fig.savefig(path, dpi=90)
  plt.close(fig)
  return path


def main(_):
  settings = pipeline.PipelineSettings(
      environment=FLAGS.environment, arms=pipeline.parse_arms(FLAGS.arms),
      bundled=FLAGS.bundled or None, pretrain_steps=FLAGS.pretrain_steps,
      transfer_steps=FLAGS.transfer_steps)
  for task in FLAGS.tasks:
    pipeline.validate(dataclasses.replace(settings, task=task))
  if settings.bundled is None:
    pipeline.pretrain(settings, FLAGS.out_dir)
  pretrained = pipeline.pretrained_dirs(settings, FLAGS.out_dir)
  comparison = evaluation.compare_with_random(
      pretrained[0], settings.environment, FLAGS.report_episodes)
  report = [f'pi_p: {pipeline.describe_pretraining(settings)}, against a '
            f'uniformly random policy, {FLAGS.report_episodes} episodes each:',
            evaluation.format_comparison(comparison)]
  extra_action_arms = [a.name for a in settings.arms
                       if a.exploration in ('bt', 'extra_action')]
  grid = np.linspace(0, FLAGS.transfer_steps, 150)
  results = {}
  for task in FLAGS.tasks:
    runs = {arm.name: [] for arm in settings.arms}
    for seed in map(int, FLAGS.seeds):
      seeded = dataclasses.replace(settings, seed=seed)
      seed_dir = os.path.join(FLAGS.out_dir, f'seed_{seed}')
      sources = pipeline.pretrained_sources(seeded, FLAGS.out_dir)
      for name, run_dir in pipeline.transfer(seeded, sources, seed_dir,
                                             task).items():
        runs[name].append(run_dir)
    measured = {name: [run_measures(d, task, FLAGS.transfer_steps)
                       for d in dirs]
                for name, dirs in runs.items()}
    results[task] = measured
    report += [f'\nTask {task!r}, {FLAGS.transfer_steps:,} actor steps per '
               f'run, seeds {",".join(FLAGS.seeds)}; mean [min, max] over seeds',
               '| agent | greedy success, last quarter | actor success | '
               'AUC (evaluator return) |', '|---|---:|---:|---:|']
    for name, rows in measured.items():
      report.append('| ' + ' | '.join(
          [name] + [spread([r[k] for r in rows]) for k in
                    ('evaluator_success_late', 'actor_success', 'auc')]) + ' |')
    report.append(f'plot: {plot_task(task, runs, grid, extra_action_arms)}')
  print('\n'.join(report), flush=True)
  figures.write(FLAGS.json, 'benchmarks.transfer_study', {
      'environment': FLAGS.environment, 'pretrained':
          pipeline.describe_pretraining(settings),
      'transfer_steps': FLAGS.transfer_steps, 'seeds': FLAGS.seeds,
      'zero_shot': comparison, 'results': results})


if __name__ == '__main__':
  app.run(main)
