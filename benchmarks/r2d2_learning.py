r"""R2D2 learning on the default small MiniGrid task over several seeds.

  python -m benchmarks.r2d2_learning [--seeds=0,1,2] [--max_actor_steps=60000]

Each seed is a full distributed run (local_mp) in runs/bench_r2d2/seed_<k>; an
interrupted study resumes where it stopped (finished runs are only re-read).
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

from behavior_transfer import experiments
from benchmarks import study

FLAGS = flags.FLAGS
flags.DEFINE_list('seeds', ['0', '1', '2'], 'Seeds to run, one after another.')
flags.DEFINE_string('environment', 'minigrid:MiniGrid-Empty-5x5-v0',
                    'Environment of the study.')
flags.DEFINE_integer('max_actor_steps', 60_000, 'Budget per seed.')
flags.DEFINE_float('threshold', 0.8,
                   'Success: the greedy evaluator\'s mean return over its last '
                   '3 episodes reaches this (MiniGrid returns are in [0, 1]).')
flags.DEFINE_string('out_dir', 'runs/bench_r2d2', 'Where runs and the plot go.')
flags.DEFINE_bool('fresh', False, 'Delete earlier runs instead of resuming.')


def main(_):
  results = []
  fig, ax = plt.subplots(figsize=(7, 4))
  for seed in map(int, FLAGS.seeds):
    run_dir = os.path.join(FLAGS.out_dir, f'seed_{seed}')
    finished = study.finished(run_dir, FLAGS.max_actor_steps) and not FLAGS.fresh
    start = time.time()
    experiments.run(
        experiments.from_preset('r2d2', FLAGS.environment,
                                FLAGS.max_actor_steps, seed=seed),
        run_dir, overwrite=FLAGS.fresh)
    minutes = None if finished else (time.time() - start) / 60
    reached, final = study.evaluator_results(run_dir, FLAGS.threshold)
    results.append((seed, reached, final, minutes))
    ax.plot(*study.evaluator_curve(run_dir), label=f'seed {seed}')
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
  print('| seed | actor steps to success | final evaluator return (mean of 3) | wall time |')
  print('|---:|---:|---:|---:|')
  for seed, reached, final, minutes in results:
    print(f'| {seed} | {reached if reached is not None else "not reached"} | '
          f'{final:.2f} | {f"{minutes:.1f} min" if minutes else "earlier run"} |')
  print(f'plot: {plot}')


if __name__ == '__main__':
  app.run(main)
