"""Pre-trains pi_p and ships it: the recipe behind each bundled policy.

Runs reward-free pre-training to its budget, measures the exported pi_p's
exploration next to a uniformly random policy's, then copies the SavedModel
into `policies/bundled/<name>/` with the Q-network's weights and a provenance
file saying how it was made.
"""

import datetime
import json
import os
import shutil
import subprocess
import time
from typing import Any, Dict, Optional, Sequence

from acme import specs
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer import networks
from behavior_transfer.environments import measures
from behavior_transfer.launching import reports
from behavior_transfer.launching import runs
from behavior_transfer.networks import weight_transfer
from behavior_transfer.policies import bundled
from behavior_transfer.policies import evaluation


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


def save_weights(run_dir: str, environment: environments.Name,
                 directory: str) -> str:
  """The final learner checkpoint's Q-network alone, written to `directory`."""
  domain = environments.parse(environment).domain
  spec = specs.make_environment_spec(environments.make_environment(
      environment, 'game'))
  checkpoint = experiments.weights_dir(run_dir)
  network = networks.make_q_network(
      domain, spec, size=networks.network_size_of_run(checkpoint))
  weight_transfer.restore_network(network, checkpoint, spec)
  return weight_transfer.save_network(network, directory)


def bundle_policy(name: str, spec: experiments.ExperimentSpec, run_dir: str,
                  report_episodes: int, command: Sequence[str],
                  launch_type: runs.Launch = 'local_mp',
                  overwrite: bool = False,
                  verbose: bool = False) -> Dict[str, Any]:
  """Pre-trains `spec` (an NGU run) in `run_dir` (resuming it if it
  exists), then ships the result as bundled policy `name`; returns its
  provenance."""
  bundled.check_new_name(name)
  if spec.agent != 'ngu':
    raise ValueError(f'Only pre-training (agent "ngu") is bundled, not '
                     f'{spec.agent!r}.')
  commit = source_commit()  # The code that trains, not what is there after.
  started = time.time()
  experiments.run(spec, run_dir, launch_type, overwrite, verbose=verbose)
  # A resumed run's launches before this call count too.
  wall_seconds = runs.launches_wall_seconds(run_dir)
  if wall_seconds is None:
    wall_seconds = time.time() - started
  settings = spec.to_json()
  return write_bundle(name, run_dir, str(spec.environment), spec.seed,
                      report_episodes, {
                          'intrinsic_reward': settings['config'][
                              'intrinsic_reward'],
                          'command': ' '.join(command),
                          'commit': commit,
                          'wall_seconds': round(wall_seconds, 1),
                          'config': settings['config'],
                          'program': settings['program']})


EXPLORATION_PLOT = 'exploration.png'


def plot_exploration(run_dir: str, comparison: Dict[str, Dict[str, float]],
                     title: str, path: str) -> Optional[str]:
  """pi_p's exploration over pre-training (the greedy evaluator, mean of 10
  episodes), one panel per measure the level has, with the random policy's
  level, the final pi_p's and, where known, the most any policy could reach
  (the paper's figure 2); None without an evaluator log."""
  evaluator = reports.read_logs(run_dir).get('evaluator')
  names = [m for m in measures.EXPLORATION_MEASURES
           if evaluator is not None and m in evaluator and
           m in comparison['random']]
  if not names:
    return None
  fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.8),
                           squeeze=False)
  for ax, measure in zip(axes[0], names):
    ax.plot(evaluator['actor_steps'],
            evaluator[measure].rolling(10, 1).mean(), label='pi_p (greedy)')
    ax.axhline(comparison['random'][measure], color='grey', linestyle='--',
               label='uniform random')
    ax.axhline(comparison['pi_p'][measure], color='C1', linestyle=':',
               label='final pi_p')
    if measure in comparison.get('reachable', {}):
      ax.axhline(comparison['reachable'][measure], color='black',
                 linestyle='-.', label='most reachable')
    ax.set_xlabel('reward-free actor steps')
    ax.set_ylabel(f'{measure} per episode')
    ax.legend(fontsize=8)
  fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)
  return path


def write_bundle(name: str, run_dir: str, environment: str, seed: int,
                 report_episodes: int, made_by: Dict[str, Any],
                 directory: str = bundled.BUNDLED_DIR) -> Dict[str, Any]:
  """Copies a finished pre-training run's pi_p and weights into
  `<directory>/<name>/` with a provenance file: `made_by` (how it was made)
  plus the run's steps and pi_p's exploration next to a random policy's,
  measured here over `report_episodes` episodes."""
  summary = reports.summarize(run_dir)
  policy_dir = experiments.policy_dir(run_dir)
  comparison = evaluation.compare_with_random(policy_dir, environment,
                                              report_episodes, seed)
  provenance = {
      'name': name, 'environment': environment, 'seed': seed,
      'actor_steps': int(summary['actor_steps']),
      'learner_steps': int(summary.get('learner_steps', 0)),
      'created': datetime.datetime.now().isoformat(timespec='seconds'),
      **made_by,
      'exploration': {'episodes': report_episodes, 'seed': seed, **comparison},
  }
  target = os.path.join(directory, bundled.check_new_name(name))
  staging = target + '.partial'
  shutil.rmtree(staging, ignore_errors=True)
  shutil.copytree(policy_dir, staging)
  provenance['exploration_ratio'] = evaluation.exploration_ratio(comparison)
  plot_exploration(run_dir, comparison, f'{name} on {environment}',
                   os.path.join(staging, EXPLORATION_PLOT))
  save_weights(run_dir, environment,
               os.path.join(staging, bundled.WEIGHTS_DIR))
  with open(os.path.join(staging, bundled.PROVENANCE_FILE), 'w') as f:
    json.dump(provenance, f, indent=2)
  shutil.rmtree(target, ignore_errors=True)
  os.rename(staging, target)
  return provenance
