"""One call that runs a transfer experiment: BT, its ablations or a baseline.

The pre-trained policy is named by a source string, parsed by
`pretrained_factory`:
  'random'                  uniformly random primitive actions;
  'scripted:door_seeker'    the hand-written MiniGrid door seeker;
  'exported:<dir>'          a SavedModel written by `pretrained.export_policy`;
  'bundled:<name>'          a SavedModel shipped with the package
                            (`policies/bundled.py`);
  'checkpoint:<dir>'        a learner checkpoint of this project, read with the
                            environment's Q-network preset.
"""

import dataclasses
import functools
from typing import Dict, Optional

from acme import specs

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.bt import pretrained
from behavior_transfer.agents.bt import program as bt_program
from behavior_transfer.agents.bt import scripted
from behavior_transfer.agents.r2d2 import experiment as r2d2_experiment
from behavior_transfer.policies import bundled
from behavior_transfer.utils import runs

SCRIPTED_POLICIES = {'door_seeker': scripted.DoorSeekingPolicy}


def _random(environment_spec: specs.EnvironmentSpec, seed: int):
  return pretrained.RandomPolicy(environment_spec.actions.num_values, seed)


def _checkpoint(path: str, domain: str,
                environment_spec: specs.EnvironmentSpec):
  return pretrained.from_checkpoint(
      path, networks.make_q_network(domain, environment_spec), environment_spec)


def pretrained_factory(source: str, environment: str,
                       environment_spec: specs.EnvironmentSpec, seed: int = 0):
  """A picklable callable that loads pi_p from `source` (see module doc)."""
  kind, _, argument = source.partition(':')
  if kind == 'random':
    return functools.partial(_random, environment_spec, seed)
  if kind == 'scripted':
    if argument not in SCRIPTED_POLICIES:
      raise ValueError(f'Unknown scripted policy {argument!r}; valid: '
                       f'{", ".join(sorted(SCRIPTED_POLICIES))}.')
    return functools.partial(SCRIPTED_POLICIES[argument], seed)
  if kind == 'exported' and argument:
    return functools.partial(pretrained.ExportedPolicy, argument)
  if kind == 'bundled':
    return functools.partial(pretrained.ExportedPolicy,
                             bundled.policy_path(argument))
  if kind == 'checkpoint' and argument:
    domain, _ = environments.parse_environment_name(environment)
    return functools.partial(_checkpoint, argument, domain, environment_spec)
  raise ValueError(
      f'Pre-trained policy source {source!r} must be one of "random", '
      f'"scripted:<{"|".join(SCRIPTED_POLICIES)}>", "exported:<dir>", '
      f'"bundled:<{"|".join(bundled.bundled_names())}>" or "checkpoint:<dir>".')


def default_config(environment: str, exploration: str,
                   **r2d2_overrides) -> bt_config.BTConfig:
  return bt_config.BTConfig(
      r2d2=r2d2_experiment.default_config(environment, **r2d2_overrides),
      exploration=bt_config.Exploration(exploration))


def make_program_builder(environment: str, task: str, pretrained_source: str,
                         config: bt_config.BTConfig, run_dir: str,
                         max_actor_steps: int, seed: int, stop_program=None,
                         weight_init: str = 'none',
                         weights_checkpoint: Optional[str] = None
                         ) -> bt_program.DistributedBehaviorTransfer:
  """The transfer program builder; refuses a mismatching pi_p or weights
  checkpoint right here."""
  environments.validate(environment, task)
  domain, _ = environments.parse_environment_name(environment)
  environment_factory = r2d2_experiment.environment_factory(environment, task)
  factory = None
  if config.exploration.uses_pretrained_policy:
    spec = specs.make_environment_spec(environment_factory(seed))
    factory = pretrained_factory(pretrained_source, environment, spec, seed)
  if weights_checkpoint and weights_checkpoint.startswith('bundled:'):
    weights_checkpoint = bundled.weights_path(
        weights_checkpoint.partition(':')[2])
  return bt_program.DistributedBehaviorTransfer(
      environment_factory=environment_factory,
      network_factory=functools.partial(networks.make_q_network, domain),
      pretrained_factory=factory,
      config=config,
      run_dir=run_dir,
      max_actor_steps=max_actor_steps,
      seed=seed,
      stop_program=stop_program,
      weight_init=weight_init,
      weights_checkpoint=weights_checkpoint)


def run(environment: str,
        task: str,
        pretrained_source: str,
        config: bt_config.BTConfig,
        run_dir: str,
        max_actor_steps: int,
        seed: int = 0,
        launch_type: str = 'local_mp',
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

  def build_program(stop_program):
    return make_program_builder(environment, task, pretrained_source, config,
                                run_dir, max_actor_steps, seed, stop_program,
                                weight_init, weights_checkpoint).build()

  return runs.run_to_budget(
      build_program, settings, run_dir, max_actor_steps, launch_type,
      overwrite, plot_title or
      f'{config.exploration.value} on {environment} ({task}), pi_p: '
      f'{pretrained_source}', verbose)
