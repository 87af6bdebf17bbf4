"""The flags every launcher shares, and how a launcher ends.

Exit codes: 0 the run reached its budget (or was submitted to Vertex AI, or
a dry run printed it); 1 a node failed or died, the run
stalled, or a checkpoint could not be read; 2 bad input, refused before
anything started; 130 interrupted (Ctrl-C or SIGTERM): run the same command to
resume.
"""

import contextlib
import sys
import warnings
from typing import Optional

from absl import flags

from behavior_transfer import experiments
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.distributed import checkpointing
from behavior_transfer.launch import terminal
from behavior_transfer.launching import runs
from behavior_transfer.launching import vertex

FLAGS = flags.FLAGS


def define_run_flags(environment: str, run_dir: str, max_actor_steps: int):
  """Defines the shared flags with this launcher's defaults. Flags that
  override a preset's field default to None: the preset's value."""
  flags.DEFINE_string(
      'environment', environment,
      'Dynamics as "<domain>:<name>": "atari:<ALE id>" (e.g. atari:pong, '
      'atari:montezuma_revenge) or "minigrid:<gymnasium id>".')
  flags.DEFINE_string(
      'task', 'game', 'Reward function over the dynamics: "game" (the '
      'environment\'s own reward), "none" (reward-free), or a registered task.')
  flags.DEFINE_string(
      'preset', 'standard',
      'Named configuration of the domain, picking the agent\'s '
      'hyperparameters and the program\'s settings: "standard"; on Atari '
      'also "paper" (the papers\' 256 actors; a cluster job) and "tiny" '
      '(tiny network and replay, for smoke runs). `python -m '
      'behavior_transfer.launch.sizing` prints what each needs. The flags '
      'below override single fields.')
  flags.DEFINE_integer('max_actor_steps', max_actor_steps,
                       'Budget in environment steps summed over actors; every '
                       'node stops there.')
  flags.DEFINE_integer('seed', 0, 'Seeds environments and TF in every node.')
  define_operation_flags(run_dir)
  flags.DEFINE_bool('overwrite', False,
                    'Delete the run directory first instead of resuming it.')
  # The program's settings (distributed.program_config.ProgramConfig).
  flags.DEFINE_integer('num_actors', None, 'Number of actor nodes (at least '
                       '1).')
  flags.DEFINE_integer(
      'envs_per_actor', None,
      'Environments each actor node steps in lockstep, with one batched '
      'network call per step. More environments gather more experience per '
      'core.')
  flags.DEFINE_float(
      'checkpoint_seconds', None,
      'Checkpoint interval. Counter and learner save at start, at this '
      'interval and when stopped; a killed run loses at most one interval.')
  flags.DEFINE_bool(
      'checkpoint_replay', None,
      'Also checkpoint the replay tables (Reverb\'s checkpointer), so a resumed '
      'run does not start from an empty replay buffer. Costs disk and time.')
  flags.DEFINE_float(
      'stall_seconds', None,
      'End the run, reporting what each node waits on, after this long '
      'without actor or learner progress.')
  flags.DEFINE_integer(
      'num_cachers', None,
      'Variable-serving nodes: actor i fetches the learner\'s variables from '
      'cacher i mod num_cachers. More spread many actors\' fetches.')
  # R2D2's hyperparameters (agents.r2d2.config.R2D2Config).
  flags.DEFINE_float(
      'replay_ratio', None,
      'Times the learner trains on each actor step on average (learner steps '
      'x batch x trace length / actor steps); replay\'s rate limiter holds '
      'it, blocking actors or learner. 0 lets the learner run freely.')
  flags.DEFINE_integer('batch_size', None, 'Sequences per learner batch.')
  flags.DEFINE_integer(
      'max_replay_size', None,
      'Replay capacity in sequences; `python -m '
      'behavior_transfer.launch.sizing` prints the memory it takes.')
  flags.DEFINE_float('learning_rate', None, 'Adam\'s learning rate.')
  flags.DEFINE_float(
      'discount', None,
      'Discount of the n-step return, in (0, 1] (default: the preset\'s; '
      '0.99 on MiniGrid, 0.95 for NGU pre-training there, 0.997 on Atari). '
      'A lower one shrinks Q-values relative to the gaps between actions\' '
      'values.')
  flags.DEFINE_float(
      'initial_priority', None,
      'Replay priority of a new sequence until the learner first samples it '
      '(default: the preset\'s; 1.0, Acme\'s, but 100 for NGU pre-training '
      'on MiniGrid). Above the learnt priorities, every new sequence is '
      'trained on soon: with 100, one NGU pre-training run of four on '
      'UnlockPickup learnt to open the locked door (docs/transfer_suite.md).')
  flags.DEFINE_enum(
      'acting_dtype', None, list(r2d2_config.ACTING_DTYPES),
      'What the actors\' Q-network computes in. On CPUs with AMX, bfloat16 '
      'made the Atari actor node 1.10x faster (its network call 1.54x; '
      '`make bench-actors` measures it); on CPUs without bfloat16 units it '
      'can be slower. Learner, evaluator and pi_p stay float32.')
  flags.DEFINE_bool(
      'share_replay_writer', None,
      'Whether an actor over several environments writes replay through one '
      'Reverb writer, each item a whole sequence (default: yes; its node '
      'steps 1.09-1.24x as fast, docs/results.md), at the '
      'price of sending and holding each step in every item that contains '
      'it: sequence_length / replay_period times, 3.025x at the defaults. '
      '--noshare_replay_writer: one writer per environment, whose items '
      'share chunks.')


def define_launch_flags():
  """How a program is launched: on this machine or on Vertex AI."""
  flags.DEFINE_enum('launch_type', 'local_mp', list(runs.LAUNCH_TYPES),
                    'Launchpad launch type: one process per node (local_mp), '
                    'threads (local_mt), or a machine per node on Vertex AI '
                    '(vertex_ai; see --vertex_mode).')
  flags.DEFINE_enum(
      'vertex_mode', 'submit', list(vertex.MODES),
      'With --launch_type=vertex_ai: submit the job (needs a GCP project, '
      'GOOGLE_CLOUD_BUCKET_NAME and --run_dir=/gcs/<bucket>/...), dry_run '
      '(print the worker pools, machines and image Launchpad would submit, '
      'then exit; no cloud account needed), or rehearsal (run that job on '
      'this machine, each node on a host of its own: a network namespace; '
      'needs root).')
  flags.DEFINE_string(
      'learner_accelerator', 'V100',
      'With --launch_type=vertex_ai: the learner\'s accelerator (an XManager '
      'type: V100, A100, T4, P100, P4, ...), or "none" for a CPU learner.')


def launch():
  """The launch type the flags ask for (`runs.Launch`)."""
  if FLAGS.launch_type != vertex.LAUNCH_TYPE:
    if FLAGS['vertex_mode'].present:
      raise ValueError('--vertex_mode applies only with '
                       '--launch_type=vertex_ai.')
    return FLAGS.launch_type
  accelerator = FLAGS.learner_accelerator
  return vertex.VertexLaunch(
      FLAGS.vertex_mode,
      None if accelerator.lower() == 'none' else accelerator)


def define_operation_flags(run_dir: str):
  """Where a run goes, how it is launched and what the terminal shows."""
  define_launch_flags()
  flags.DEFINE_string('run_dir', run_dir,
                      'Logs, checkpoints and plots go here; an existing run '
                      'directory is resumed from its checkpoints.')
  flags.DEFINE_bool(
      'verbose', False, 'Show every line the nodes print on the terminal; '
      'otherwise only progress, warnings and failures (the full output of '
      'each node is in <run_dir>/node_logs either way).')


def make_spec(agent: str, **transfer) -> experiments.ExperimentSpec:
  """The run the shared flags describe: `agent` under --preset, with the
  fields the flags set; `transfer` sets pi_p and weights (BT)."""
  spec = experiments.from_preset(
      agent, FLAGS.environment, FLAGS.max_actor_steps, FLAGS.preset,
      None if agent == 'ngu' else FLAGS.task, FLAGS.seed, **transfer)
  return experiments.override(
      spec,
      r2d2={name: getattr(FLAGS, name) for name in
            ('replay_ratio', 'batch_size', 'max_replay_size',
             'learning_rate', 'discount', 'initial_priority',
             'acting_dtype', 'share_replay_writer')},
      program={name: getattr(FLAGS, name) for name in
               ('num_actors', 'envs_per_actor', 'checkpoint_seconds',
                'checkpoint_replay', 'stall_seconds', 'num_cachers')})


def check_run_flags():
  """Refuses budgets, actor counts and run directories that cannot work."""
  runs.check_budget(FLAGS.max_actor_steps,
                    1 if FLAGS.num_actors is None else FLAGS.num_actors)
  if FLAGS.envs_per_actor is not None and FLAGS.envs_per_actor < 1:
    raise ValueError('--envs_per_actor must be at least 1 (got '
                     f'{FLAGS.envs_per_actor}).')
  if FLAGS.replay_ratio is not None and FLAGS.replay_ratio < 0:
    raise ValueError(f'--replay_ratio must be >= 0 (got {FLAGS.replay_ratio}).')
  if not isinstance(launch(), vertex.VertexLaunch):  # It checks its own.
    runs.check_run_dir(FLAGS.run_dir)


@contextlib.contextmanager
def exit_codes(run_dir: Optional[str] = None):
  """Ends the launcher with one clear message and the exit code of the
  module docstring instead of a traceback; what the stack printed when
  imported goes to `run_dir`'s node logs (`terminal`)."""
  # gym turns deprecation warnings of the pinned stack on when imported.
  warnings.filterwarnings('ignore', category=DeprecationWarning)
  try:
    yield
  except (ValueError, FileNotFoundError) as e:
    _exit(f'error: {e}', 2)
  except checkpointing.CheckpointError as e:
    _exit(f'error: {e}', 1)
  except runs.NodeFailure as e:
    _exit(f'\nThe run failed.\n{e}', 1)
  except runs.RunInterrupted as e:
    _exit(f'\n{e}', 130)
  except runs.Handover as e:
    print(e, flush=True)
    sys.exit(0)
  except KeyboardInterrupt:
    _exit('\nInterrupted while no program was running; nothing was lost.', 130)
  finally:
    terminal.write_held(run_dir)


def _exit(message: str, code: int):
  sys.stdout.flush()
  print(message, file=sys.stderr, flush=True)
  sys.exit(code)
