"""Finished transfer runs made by hand for tests: a run directory with its
config.json and a learner checkpoint whose Q-network prefers chosen outputs."""

import json
import os
from typing import Mapping

import numpy as np

from behavior_transfer import experiments
from behavior_transfer.networks import weight_transfer


def biased_bt_run(run_dir: str, environment: str, biases: Mapping[int, float],
                  task: str = 'game') -> str:
  """A BT run directory (pi_p: random) whose dueling head adds `biases[i]`
  to output i's advantage in every state (the output's weights zeroed)."""
  spec = experiments.from_preset('bt', environment, 100, task=task,
                                 pretrained='random')
  os.makedirs(run_dir)
  with open(os.path.join(run_dir, 'config.json'), 'w') as f:
    json.dump(spec.to_json(), f)
  layout = experiments.make_layout(spec, run_dir)
  network = layout.builder.make_network(layout.environment_spec)
  outputs = layout.environment_spec.actions.num_values + 1
  advantage = [v for v in network.variables
               if 'duelling' in v.name and v.shape[-1] == outputs]
  weights, = [v for v in advantage if v.shape.rank == 2]
  bias, = [v for v in advantage if v.shape.rank == 1]
  new_weights, new_bias = weights.numpy(), bias.numpy()
  for output, value in biases.items():
    new_weights[:, output] = 0.
    new_bias[output] = value
  weights.assign(new_weights)
  bias.assign(new_bias)
  weight_transfer.save_network(network, experiments.weights_dir(run_dir))
  return run_dir
