"""A finished run's final policy, measured over many episodes.

The program's evaluator acts alongside learning with pauses between
episodes, so the last part of a short run holds only a handful of its
episodes, each from other weights. A study's score at the budget is instead
the policy the run ended with: the learner's last checkpoint, acted by the
evaluator's own policy (greedy over the agent's choices, BT's a+ resolved by
pi_p, no flights) for a fixed number of episodes in an environment seeded
apart from training's. One environment acts them one after another, so short
episodes are not over-represented.
"""

import json
import os
from typing import Tuple

from acme.tf import utils as tf2_utils
from acme.utils import loggers
import pandas as pd
import sonnet as snt

from behavior_transfer.distributed import layout as distributed_layout
from behavior_transfer.distributed import variable_cache
from behavior_transfer.experiments import run_experiment
from behavior_transfer.experiments import spec as spec_lib
from behavior_transfer.networks import weight_transfer


def run_spec(run_dir: str) -> spec_lib.ExperimentSpec:
  """The spec a run directory was made with (its config.json)."""
  path = os.path.join(run_dir, 'config.json')
  try:
    with open(path) as f:
      return spec_lib.ExperimentSpec.from_json(json.load(f))
  except (OSError, ValueError) as error:
    raise ValueError(f'Cannot read the run\'s settings from {path}: '
                     f'{error}') from error


def final_network(run_dir: str) -> Tuple[
    distributed_layout.DistributedLayout, snt.Module]:
  """The layout of the transfer run in `run_dir` and its Q-network with the
  learner's last weights."""
  spec = run_spec(run_dir)
  if spec.agent == 'ngu':
    raise ValueError(f'{run_dir} is a pre-training run: its final policy is '
                     'measured by policies.evaluation (pi_p against random).')
  layout = run_experiment.make_layout(spec, run_dir)
  network = layout.builder.make_network(layout.environment_spec)
  weight_transfer.restore_network(network, run_experiment.weights_dir(run_dir),
                                  layout.environment_spec)
  return layout, network


def final_policy_episodes(run_dir: str, num_episodes: int) -> pd.DataFrame:
  """`num_episodes` episodes of the final policy of the transfer run in
  `run_dir`, one row each with the evaluator's columns (return under every
  task of the domain, exploration measures, a+ usage)."""
  if num_episodes < 1:
    raise ValueError(f'num_episodes must be positive, got {num_episodes}.')
  layout, network = final_network(run_dir)
  logger = loggers.InMemoryLogger()
  loop = layout.final_evaluator(
      variable_cache.FixedVariables(tf2_utils.to_numpy(network.variables)),
      logger)
  loop.run(num_episodes=num_episodes)
  return pd.DataFrame(logger.data)
