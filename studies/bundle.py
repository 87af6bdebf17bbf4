"""Pre-trains pi_p and ships it: the recipe behind each bundled policy.

Runs reward-free pre-training to its budget, measures the exported pi_p's
exploration next to a uniformly random policy's, then copies the SavedModel
into `policies/bundled/<name>/` with a provenance file saying how it was made.
"""

import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import time
from typing import Any, Dict, Sequence

from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import evaluation
from behavior_transfer.agents.ngu import experiment as ngu_experiment
from behavior_transfer.policies import bundled


def source_commit() -> str:
  """The commit of this checkout, marked '-dirty' with uncommitted changes."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  try:
    commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=root, text=True,
                            capture_output=True, check=True).stdout.strip()
    dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                           cwd=root, text=True, capture_output=True,
                           check=True).stdout.strip()
  except (OSError, subprocess.CalledProcessError):
    return 'unknown (not a git checkout)'
  return commit + ('-dirty' if dirty else '')


def bundle_policy(name: str, environment: str, config: ngu_config.NGUConfig,
                  max_actor_steps: int, seed: int, run_dir: str,
                  report_episodes: int, command: Sequence[str],
                  launch_type: str = 'local_mp', overwrite: bool = False,
                  bundled_dir: str = bundled.BUNDLED_DIR,
                  verbose: bool = False) -> Dict[str, Any]:
  """Pre-trains in `run_dir` (resuming it if it exists), then writes
  `<bundled_dir>/<name>/`; returns the provenance written there."""
  started = time.time()
  summary = ngu_experiment.run(environment, config, run_dir, max_actor_steps,
                               seed, launch_type, overwrite, verbose=verbose)
  wall_seconds = time.time() - started
  policy_dir = ngu_experiment.policy_dir(run_dir)
  comparison = evaluation.compare_with_random(policy_dir, environment,
                                              report_episodes, seed)
  config_values = dataclasses.asdict(config)
  config_values['intrinsic_reward'] = config.intrinsic_reward.value
  provenance = {
      'name': name,
      'environment': environment,
      'intrinsic_reward': config.intrinsic_reward.value,
      'command': ' '.join(command),
      'commit': source_commit(),
      'seed': seed,
      'actor_steps': int(summary['actor_steps']),
      'learner_steps': int(summary.get('learner_steps', 0)),
      'wall_seconds': round(wall_seconds, 1),
      'created': datetime.datetime.now().isoformat(timespec='seconds'),
      'exploration': {'episodes': report_episodes, 'seed': seed, **comparison},
      'config': config_values,
  }
  target = os.path.join(bundled_dir, name)
  staging = target + '.partial'
  shutil.rmtree(staging, ignore_errors=True)
  shutil.copytree(policy_dir, staging)
  with open(os.path.join(staging, bundled.PROVENANCE_FILE), 'w') as f:
    json.dump(provenance, f, indent=2)
  shutil.rmtree(target, ignore_errors=True)
  os.rename(staging, target)
  return provenance
