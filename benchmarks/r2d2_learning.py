r"""R2D2 learning on the default small MiniGrid task over several seeds.

  python -m benchmarks.r2d2_learning [--seeds=0,1,2] [--max_actor_steps=40000]

Each seed is a full distributed run (local_mp) in runs/bench_r2d2/seed_<k>.
Reports, per seed, the actor steps at which the greedy evaluator first reached
the success threshold (mean return of its last 3 episodes), the final
evaluator return and the wall time, then writes one PNG with every seed's curve.
"""

import os
import time

from absl import app
from absl import flags
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

from behavior_transfer.agents.r2d2 import experiment
from behavior_transfer.utils import reports

FLAGS = flags.FLAGS
flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds to run, one after another.')
flags.DEFINE_string('environment', 'minigrid:MiniGrid-Empty-5x5-v0',
                    'Environment of the study.')
flags.DEFINE_integer('max_actor_steps', 40_000, 'Budget per seed.')
flags.DEFINE_float('threshold', 0.8,
                   'Success: the greedy evaluator\'s mean return over its last '
                   '3 episodes reaches this (MiniGrid returns are in [0, 1]).')
flags.DEFINE_string('out_dir', 'runs/bench_r2d2', 'Where runs and the plot go.')


def steps_to_threshold(run_dir: str, threshold: float):
  evaluator = reports.read_logs(run_dir).get('evaluator')
  if evaluator is None:
    return None
  smoothed = evaluator['episode_return'].rolling(3).mean()
  reached = evaluator['actor_steps'][smoothed >= threshold]
  return int(reached.iloc[0]) if len(reached) else None


def main(_):
  results = []
  fig, ax = plt.subplots(figsize=(7, 4))
  for seed in map(int, FLAGS.seeds):
    run_dir = os.path.join(FLAGS.out_dir, f'seed_{seed}')
    start = time.time()
    summary = experiment.run(
        FLAGS.environment, 'game', experiment.default_config(FLAGS.environment),
        run_dir, FLAGS.max_actor_steps, seed=seed, overwrite=True)
    minutes = (time.time() - start) / 60
    reached = steps_to_threshold(run_dir, FLAGS.threshold)
    results.append((seed, reached, summary.get('recent_evaluator_return'),
                    minutes))
    evaluator = reports.read_logs(run_dir)['evaluator']
    ax.plot(evaluator['actor_steps'],
            evaluator['episode_return'].rolling(3, 1).mean(),
            label=f'seed {seed}')
  ax.axhline(FLAGS.threshold, color='grey', linestyle='--', label='threshold')
  ax.set_xlabel('actor steps (2 actors)')
  ax.set_ylabel('greedy evaluator return (mean of 3)')
  ax.set_title(f'R2D2 on {FLAGS.environment}')
  ax.legend()
  fig.tight_layout()
  plot = os.path.join(FLAGS.out_dir, 'r2d2_learning.png')
  fig.savefig(plot, dpi=100)

  print(f'\nR2D2 on {FLAGS.environment}, budget {FLAGS.max_actor_steps} actor '
        f'steps per seed, success = evaluator mean of 3 >= {FLAGS.threshold}')
  print('| seed | actor steps to success | final evaluator return | wall time |')
  print('|---:|---:|---:|---:|')
  for seed, reached, final, minutes in results:
    print(f'| {seed} | {reached if reached is not None else "not reached"} | '
          f'{final:.2f} | {minutes:.1f} min |')
  print(f'plot: {plot}')


if __name__ == '__main__':
  app.run(main)
