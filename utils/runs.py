"""Running a Launchpad program in a run directory: prepare, launch, wait, report.

A run directory holds `config.json`, per-node CSV logs under `logs/`, learner
and counter checkpoints under `checkpoints/`, `FAILED` if a node failed, and the
learning-curve plot. Launching into an existing run directory resumes it.
"""

import json
import os
import shutil
from typing import Any, Callable, Dict, Mapping

from absl import logging
import launchpad as lp
from launchpad.nodes.python import local_multi_processing

from behavior_transfer.utils import lp_utils
from behavior_transfer.utils import reports

LAUNCH_TYPES = ('local_mp', 'local_mt', 'test_mt', 'vertex_ai')


class NodeFailure(RuntimeError):
  """A node of the program failed; the message names it."""


def prepare_run_dir(run_dir: str, config: Mapping[str, Any],
                    overwrite: bool) -> bool:
  """Creates (or with `overwrite` re-creates) the run directory.

  Returns True when an existing run is resumed from its checkpoints.
  """
  config_path = os.path.join(run_dir, 'config.json')
  if overwrite and os.path.exists(run_dir):
    shutil.rmtree(run_dir)
  resumed = os.path.exists(config_path)
  if resumed:
    with open(config_path) as f:
      previous = json.load(f)
    changed = {k for k in config if previous.get(k) != config[k]} - {
        'max_actor_steps', 'launch_type', 'overwrite'}
    if changed:
      raise ValueError(
          f'{run_dir} holds a run with a different configuration '
          f'({", ".join(sorted(changed))}); pass --overwrite or another '
          '--run_dir.')
  os.makedirs(run_dir, exist_ok=True)
  failure = os.path.join(run_dir, lp_utils.FAILURE_FILE)
  if os.path.exists(failure):
    os.remove(failure)
  with open(config_path, 'w') as f:
    json.dump(dict(config), f, indent=2, sort_keys=True)
  return resumed


def make_stop_program(launch_type: str) -> Callable[[], Any]:
  """A picklable callable that ends every node of the program."""
  if launch_type not in LAUNCH_TYPES:
    raise ValueError(f'Unknown launch type {launch_type!r}; valid: '
                     f'{", ".join(LAUNCH_TYPES)}.')
  return lp.make_program_stopper(launch_type)


def launch_and_wait(program: lp.Program, launch_type: str, run_dir: str):
  """Launches `program`, waits until it ends, and raises if a node failed."""
  if launch_type == 'local_mp':
    # One single-threaded TF runtime per process keeps a 2-core machine usable.
    env = {'TF_CPP_MIN_LOG_LEVEL': '2', 'OMP_NUM_THREADS': '1',
           'PYTHONUNBUFFERED': '1'}
    resources = {
        label: local_multi_processing.PythonProcess(env=env)
        for label in program.groups
    }
    manager = lp.launch(program, launch_type=launch_type,
                        local_resources=resources, terminal='current_terminal')
  else:
    manager = lp.launch(program, launch_type=launch_type)
  if hasattr(manager, 'wait'):
    try:
      manager.wait()
    except RuntimeError as e:  # A worker exited with an error.
      logging.error('Program ended with an error: %s', e)
  failure = os.path.join(run_dir, lp_utils.FAILURE_FILE)
  if os.path.exists(failure):
    with open(failure) as f:
      raise NodeFailure(f.read())


def run_to_budget(build_program: Callable[[Callable[[], Any]], lp.Program],
                  settings: Mapping[str, Any], run_dir: str,
                  max_actor_steps: int, launch_type: str, overwrite: bool,
                  plot_title: str) -> Dict[str, float]:
  """Runs a program in `run_dir` until its budget, resuming if it can.

  Args:
    build_program: makes the program given the callable that stops it.
    settings: the run's configuration, saved as config.json; a resumed run
      must have the same settings (budget and launch type aside).
    run_dir: the run directory.
    max_actor_steps: the budget; a resumed run that already used it only
      reports.
    launch_type: a Launchpad launch type.
    overwrite: start afresh even if `run_dir` holds a run.
    plot_title: title of learning_curve.png.

  Returns:
    The run's summary (steps, episodes, recent returns).
  """
  # Building first checks names and pi_p before the run directory is touched.
  program = build_program(make_stop_program(launch_type))
  resumed = prepare_run_dir(run_dir, settings, overwrite)
  done = reports.summarize(run_dir)['actor_steps'] if resumed else 0
  if done >= max_actor_steps:
    print(f'The run in {run_dir} already used its budget ({int(done)} of '
          f'{max_actor_steps} actor steps); raise --max_actor_steps to go on.',
          flush=True)
  else:
    if resumed:
      print(f'Resuming the run in {run_dir} from its checkpoints at {int(done)} '
            'actor steps.', flush=True)
    launch_and_wait(program, launch_type, run_dir)
  reports.plot_learning_curves(run_dir, plot_title)
  return reports.summarize(run_dir)
