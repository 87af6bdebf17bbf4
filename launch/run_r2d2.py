r"""Runs distributed R2D2 on Launchpad.

  python -m behavior_transfer.launch.run_r2d2 \
      --environment=minigrid:MiniGrid-Empty-5x5-v0 --num_actors=2 \
      --max_actor_steps=20000 --run_dir=runs/r2d2
"""

from absl import app
from absl import flags

from behavior_transfer import experiments
from behavior_transfer.launch import run_flags
from behavior_transfer.launching import reports

FLAGS = run_flags.FLAGS
run_flags.define_run_flags(environment='minigrid:MiniGrid-Empty-5x5-v0',
                           run_dir='runs/r2d2', max_actor_steps=40_000)
flags.adopt_module_key_flags(run_flags)  # --help lists the shared flags too.


def main(_):
  with run_flags.exit_codes(FLAGS.run_dir):
    run_flags.check_run_flags()
    summary = experiments.run(
        run_flags.make_spec('r2d2'), FLAGS.run_dir, run_flags.launch(),
        FLAGS.overwrite, verbose=FLAGS.verbose)
  print(f'\nR2D2 on {FLAGS.environment} ({FLAGS.task}) finished; run '
        f'directory {FLAGS.run_dir}\n{reports.format_summary(summary)}\n'
        f'  learning curve: {FLAGS.run_dir}/learning_curve.png', flush=True)


if __name__ == '__main__':
  app.run(main)
