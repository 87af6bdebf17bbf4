"""One call that runs a transfer experiment: BT, its ablations or a baseline.

pi_p is named by a source string (`policies.sources`): 'random',
'scripted:door_seeker', 'exported:<dir>', 'bundled:<name>' or
'checkpoint:<dir>'.
"""

import dataclasses
from typing import Dict, Optional

from behavior_transfer import environments
from behavior_transfer.distributed import layout as distributed_layout
from behavior_transfer.agents.bt import builder as bt_builder
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.r2d2 import experiment as r2d2_experiment
from behavior_transfer.policies import sources
from behavior_transfer.launching import runs


def default_config(environment: str, exploration: str = 'bt',
                   preset: str = 'standard',
                   **overrides) -> bt_config.BTConfig:
  """The transfer config for `environment`: R2D2's `preset` for its domain
  under `exploration`. `overrides` set BTConfig fields (e.g.
  levy_epsilon_base) and R2D2 fields (e.g. num_actors) by name."""
  own, r2d2_overrides = r2d2_experiment.split_overrides(bt_config.BTConfig,
                                                        overrides)
  return bt_config.BTConfig(
      r2d2=r2d2_experiment.default_config(environment, preset,
                                          **r2d2_overrides),
      exploration=bt_config.Exploration(exploration), **own)


def make_program_builder(environment: str, task: str, pretrained_source: str,
                         config: bt_config.BTConfig, run_dir: str,
                         max_actor_steps: int, seed: int, stop_program=None,
                         weight_init: str = 'none',
                         weights_checkpoint: Optional[str] = None
                         ) -> distributed_layout.DistributedLayout:
  """The transfer program; refuses unknown names, a mismatching pi_p or a
  weights checkpoint that does not fit right here. `weights_checkpoint` is
  a directory or 'bundled:<name>'."""
  environments.validate(environment, task)
  domain, _ = environments.parse_environment_name(environment)
  pretrained_factory = None
  if config.exploration.uses_pretrained_policy:
    pretrained_factory = sources.policy_factory(pretrained_source,
                                                environment, seed)
  if weights_checkpoint:
    sources.weights_checkpoint(weights_checkpoint)  # Refuses unknown names.
  builder = bt_builder.BTBuilder(
      config, r2d2_experiment.network_factory(domain, config.r2d2),
      pretrained_factory, weight_init, weights_checkpoint)
  return distributed_layout.DistributedLayout(
      builder, r2d2_experiment.environment_factory(environment, task),
      run_dir, max_actor_steps, seed, stop_program)


def run(environment: str,
        task: str,
        pretrained_source: str,
        config: bt_config.BTConfig,
        run_dir: str,
        max_actor_steps: int,
        seed: int = 0,
        launch_type: runs.Launch = 'local_mp',
        overwrite: bool = False,
        plot_title: Optional[str] = None,
        weight_init: str = 'none',
        weights_checkpoint: Optional[str] = None,
        verbose: bool = False) -> Dict[str, float]:
  """Runs one transfer experiment to its budget and returns its summary.

  `weight_init` ('none', 'full' or 'partial') with `weights_checkpoint` (a
  pre-training run's checkpoints/learner, or 'bundled:<name>' for a bundled
  policy's weights) adds weight transfer to any mode.
  """
  settings = dict(environment=environment, task=task, seed=seed,
                  pretrained=pretrained_source, agent='bt',
                  max_actor_steps=max_actor_steps,
                  **dataclasses.asdict(config))
  if weight_init != 'none':
    settings.update(weight_init=weight_init,
                    weights_checkpoint=weights_checkpoint)
  settings['exploration'] = config.exploration.value

  def make_layout(stop_program):
    return make_program_builder(environment, task, pretrained_source, config,
                                run_dir, max_actor_steps, seed, stop_program,
                                weight_init, weights_checkpoint)

  return runs.run_to_budget(
      make_layout, settings, run_dir, max_actor_steps, launch_type,
      overwrite, plot_title or
      f'{config.exploration.value} on {environment} ({task}), pi_p: '
      f'{pretrained_source}', verbose)
