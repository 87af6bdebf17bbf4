"""The flags every launcher shares: what to run, how long, where, and how."""

import contextlib
import sys
from typing import Dict

from absl import flags

from behavior_transfer.utils import runs

FLAGS = flags.FLAGS


def define_run_flags(environment: str, run_dir: str, max_actor_steps: int):
  """Defines the shared flags with this launcher's defaults."""
  flags.DEFINE_string(
      'environment', environment,
      'Dynamics as "<domain>:<name>": "atari:<ALE id>" (e.g. atari:pong, '
      'atari:montezuma_revenge) or "minigrid:<gymnasium id>".')
  flags.DEFINE_string(
      'task', 'game', 'Reward function over the dynamics: "game" (the '
      'environment\'s own reward), "none" (reward-free), or a registered task.')
  flags.DEFINE_integer('num_actors', 2, 'Number of actors.')
  flags.DEFINE_integer(
      'max_actor_steps', max_actor_steps,
      'Budget in environment steps summed over actors; every node stops there.')
  flags.DEFINE_integer('seed', 0, 'Seeds environments and TF in every node.')
  flags.DEFINE_enum('launch_type', 'local_mp', list(runs.LAUNCH_TYPES),
                    'Launchpad launch type: one process per node (local_mp), '
                    'threads (local_mt), or several machines (vertex_ai).')
  flags.DEFINE_string('run_dir', run_dir,
                      'Logs, checkpoints and plots go here; an existing run '
                      'directory is resumed from its checkpoints.')
  flags.DEFINE_bool('overwrite', False,
                    'Delete the run directory first instead of resuming it.')
  flags.DEFINE_integer('batch_size', None, 'Overrides the preset batch size.')
  flags.DEFINE_float('learning_rate', None,
                     'Overrides the preset learning rate.')


def r2d2_overrides() -> Dict[str, object]:
  """The R2D2 config fields the shared flags set."""
  overrides = {'num_actors': FLAGS.num_actors}
  if FLAGS.batch_size:
    overrides['batch_size'] = FLAGS.batch_size
  if FLAGS.learning_rate:
    overrides['learning_rate'] = FLAGS.learning_rate
  return overrides


@contextlib.contextmanager
def clear_errors():
  """Bad input found while building the program (unknown names, a mismatching
  or unreadable pi_p, a run directory holding another configuration) ends the
  launcher with its message instead of a traceback."""
  try:
    yield
  except (ValueError, FileNotFoundError) as e:
    sys.exit(f'error: {e}')
