r"""Behavior Transfer against its ablations and baselines on a sparse MiniGrid task.

  python -m benchmarks.bt_learning [--seeds=0,1,2] [--max_actor_steps=40000]
      [--modes=bt,flights,extra_action,epsilon_greedy,ez_greedy]

pi_p is the hand-written door seeker: it walks through doors but treats the
goal as a wall, so it explores without ever solving the task. Every mode and
seed is a full distributed run (local_mp, 2 actors) in
runs/bench_bt/<mode>/seed_<k>; an interrupted study resumes where it stopped
(finished runs are only re-read). Prints a table per mode (mean, min and max
over seeds) and writes bt_learning.png with the greedy evaluator's return and
the BT actors' fraction of greedy a+ choices (the paper's figure 4 metric).
"""

import os

from absl import app
from absl import flags
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from behavior_transfer import experiments
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.launching import reports
from benchmarks import study

FLAGS = flags.FLAGS
flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds per mode.')
flags.DEFINE_list('modes', [e.value for e in bt_config.Exploration],
                  'Exploration modes to compare.')
flags.DEFINE_string('environment', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0',
                    'A sparse-reward MiniGrid task.')
flags.DEFINE_string('pretrained', 'scripted:door_seeker', 'pi_p source.')
flags.DEFINE_integer('max_actor_steps', 40_000, 'Budget per run.')
flags.DEFINE_float('threshold', 0.5, 'Success: the greedy evaluator\'s mean '
                   'return over 3 episodes reaches this.')
flags.DEFINE_string('out_dir', 'runs/bench_bt', 'Where runs and the plot go.')
flags.DEFINE_bool('fresh', False, 'Delete earlier runs instead of resuming.')


def run_one(mode: str, seed: int) -> dict:
  run_dir = os.path.join(FLAGS.out_dir, mode, f'seed_{seed}')
  spec = experiments.from_preset('bt', FLAGS.environment,
                                 FLAGS.max_actor_steps, seed=seed,
                                 pretrained=FLAGS.pretrained)
  spec = experiments.override(
      spec, config=dict(exploration=bt_config.Exploration(mode)))
  summary = experiments.run(spec, run_dir, overwrite=FLAGS.fresh)
  reached, final = study.evaluator_results(run_dir, FLAGS.threshold)
  episodes = reports.actor_episodes(reports.read_logs(run_dir))
  late = episodes[episodes['actor_steps'] > 0.75 * FLAGS.max_actor_steps]
  return dict(run_dir=run_dir, reached=reached, final=final,
              solved=float((episodes['episode_return'] > 0).mean()),
              late_actor_return=float(late['episode_return'].mean()),
              steps=summary['actor_steps'])


def spread(values, digits: int = 2) -> str:
  values = np.asarray(values, float)
  return (f'{values.mean():,.{digits}f} [{values.min():,.{digits}f}, '
          f'{values.max():,.{digits}f}]')


def plot(results: dict, path: str):
  grid = np.linspace(0, FLAGS.max_actor_steps, 200)
  fig, (ax_return, ax_extra) = plt.subplots(1, 2, figsize=(12, 4.5))
  for mode, runs in results.items():
    curves = np.stack([study.on_grid(*study.evaluator_curve(r['run_dir']), grid)
                       for r in runs])
    line, = ax_return.plot(grid, curves.mean(0), label=mode)
    ax_return.fill_between(grid, curves.min(0), curves.max(0),
                           color=line.get_color(), alpha=0.15)
    if bt_config.Exploration(mode).uses_extra_action:
      fractions = []
      for r in runs:
        episodes = reports.actor_episodes(reports.read_logs(r['run_dir']))
        smoothed = episodes['greedy_extra_action_fraction'].rolling(50, 1).mean()
        fractions.append(study.on_grid(episodes['actor_steps'].to_numpy(),
                                       smoothed.to_numpy(), grid))
      ax_extra.plot(grid, np.mean(fractions, 0), color=line.get_color(),
                    label=mode)
  ax_return.set_xlabel('actor steps (2 actors)')
  ax_return.set_ylabel('greedy evaluator return (mean of 3; seeds: mean, range)')
  ax_return.legend()
  ax_extra.set_xlabel('actor steps')
  ax_extra.set_ylabel('fraction of actor steps whose greedy choice is a+')
  ax_extra.legend()
  fig.suptitle(f'{FLAGS.environment}, pi_p = {FLAGS.pretrained}, '
               f'{len(next(iter(results.values())))} seeds')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main(_):
  results = {}
  for mode in FLAGS.modes:
    results[mode] = [run_one(mode, int(seed)) for seed in FLAGS.seeds]
  os.makedirs(FLAGS.out_dir, exist_ok=True)
  path = os.path.join(FLAGS.out_dir, 'bt_learning.png')
  plot(results, path)

  print(f'\n{FLAGS.environment}, pi_p {FLAGS.pretrained}, budget '
        f'{FLAGS.max_actor_steps} actor steps per run, seeds {",".join(FLAGS.seeds)}; '
        'mean [min, max] over seeds')
  print('| mode | final evaluator return (mean of 3) | actor return, last 25% '
        f'of steps | actor episodes solved | seeds reaching {FLAGS.threshold} '
        '| actor steps to reach it |\n|---|---:|---:|---:|---:|---:|')
  for mode, runs in results.items():
    reached = [r['reached'] for r in runs if r['reached'] is not None]
    print(f'| {mode} | {spread([r["final"] for r in runs])} | '
          f'{spread([r["late_actor_return"] for r in runs])} | '
          f'{spread([r["solved"] for r in runs])} | {len(reached)}/{len(runs)} | '
          f'{spread(reached, digits=0) if reached else "-"} |')
  print(f'plot: {path}')


if __name__ == '__main__':
  app.run(main)
