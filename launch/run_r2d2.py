r"""Runs distributed R2D2 on Launchpad.

  python -m behavior_transfer.launch.run_r2d2 \
      --environment=minigrid:MiniGrid-Empty-5x5-v0 --num_actors=2 \
      --max_actor_steps=20000 --run_dir=runs/r2d2
"""

from absl import app
from absl import flags

from behavior_transfer.agents.r2d2 import experiment
from behavior_transfer.utils import reports
from behavior_transfer.utils import runs

FLAGS = flags.FLAGS
flags.DEFINE_string(
    'environment', 'minigrid:MiniGrid-Empty-5x5-v0',
    'Dynamics as "<domain>:<name>": "atari:<ALE id>" (e.g. atari:pong, '
    'atari:montezuma_revenge) or "minigrid:<gymnasium id>".')
flags.DEFINE_string(
    'task', 'game', 'Reward function over the dynamics: "game" (the '
    'environment\'s own reward), "none" (reward-free), or a registered task.')
flags.DEFINE_integer('num_actors', 2, 'Number of epsilon-greedy actors.')
flags.DEFINE_integer(
    'max_actor_steps', 40_000,
    'Budget in environment steps summed over actors; every node stops there.')
flags.DEFINE_integer('seed', 0, 'Seeds environments and TF in every node.')
flags.DEFINE_enum('launch_type', 'local_mp', list(runs.LAUNCH_TYPES),
                  'Launchpad launch type: one process per node (local_mp), '
                  'threads (local_mt), or several machines (vertex_ai).')
flags.DEFINE_string('run_dir', 'runs/r2d2',
                    'Logs, checkpoints and plots go here; an existing run '
                    'directory is resumed from its checkpoints.')
flags.DEFINE_bool('overwrite', False,
                  'Delete the run directory first instead of resuming it.')
flags.DEFINE_integer('batch_size', None, 'Overrides the preset batch size.')
flags.DEFINE_float('learning_rate', None, 'Overrides the preset learning rate.')


def main(_):
  overrides = {'num_actors': FLAGS.num_actors}
  if FLAGS.batch_size:
    overrides['batch_size'] = FLAGS.batch_size
  if FLAGS.learning_rate:
    overrides['learning_rate'] = FLAGS.learning_rate
  config = experiment.default_config(FLAGS.environment, **overrides)
  summary = experiment.run(
      FLAGS.environment, FLAGS.task, config, FLAGS.run_dir,
      FLAGS.max_actor_steps, FLAGS.seed, FLAGS.launch_type, FLAGS.overwrite)
  print(f'\nR2D2 on {FLAGS.environment} ({FLAGS.task}) finished; run '
        f'directory {FLAGS.run_dir}\n{reports.format_summary(summary)}\n'
        f'  learning curve: {FLAGS.run_dir}/learning_curve.png', flush=True)


if __name__ == '__main__':
  app.run(main)
