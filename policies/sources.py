"""pi_p named by a source string, as launchers and run settings name it.

  'random'                  uniformly random primitive actions;
  'scripted:door_seeker'    the hand-written MiniGrid door seeker;
  'exported:<dir>'          a SavedModel written by `pretrained.export_policy`;
  'bundled:<name>'          a SavedModel shipped with the package (`bundled`);
  'checkpoint:<dir>'        a learner checkpoint of this project, read with the
                            environment's Q-network preset;
  'bundled:a,random'        several of them, comma-separated: one agent with
                            one a+_k per policy (`policy_factories`).

`policy_factory` parses the string at once (unknown names fail before any
program starts) and returns a picklable `environment_spec -> pi_p`, so every
node of a program loads its own copy.
"""

import functools
from typing import Callable, List

from acme import specs

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.policies import bundled
from behavior_transfer.policies import pretrained
from behavior_transfer.policies import scripted

PolicyFactory = Callable[[specs.EnvironmentSpec], pretrained.PretrainedPolicy]
SCRIPTED_POLICIES = {'door_seeker': scripted.DoorSeekingPolicy}


def _random(seed: int, environment_spec: specs.EnvironmentSpec):
  return pretrained.RandomPolicy(environment_spec.actions.num_values, seed)


def _scripted(name: str, seed: int, environment_spec: specs.EnvironmentSpec):
  del environment_spec  # Scripted policies know their action set.
  return SCRIPTED_POLICIES[name](seed)


def _exported(path: str, environment_spec: specs.EnvironmentSpec):
  del environment_spec  # The SavedModel carries its own.
  return pretrained.ExportedPolicy(path)


def _bundled(name: str, environment_spec: specs.EnvironmentSpec):
  # Resolved where pi_p is loaded: the package's path differs between the
  # launcher and the nodes of a multi-machine program.
  return _exported(bundled.policy_path(name), environment_spec)


def _checkpoint(path: str, domain: str,
                environment_spec: specs.EnvironmentSpec):
  network = networks.make_q_network(
      domain, environment_spec, size=networks.network_size_of_run(path))
  return pretrained.from_checkpoint(path, network, environment_spec)


def policy_factory(source: str, environment: str,
                   seed: int = 0) -> PolicyFactory:
  """`environment_spec -> pi_p` for `source` (see the module docstring) on
  the dynamics `environment`; refuses malformed sources and unknown names."""
  kind, _, argument = source.partition(':')
  if kind == 'random' and not argument:
    return functools.partial(_random, seed)
  if kind == 'scripted':
    if argument not in SCRIPTED_POLICIES:
      raise ValueError(f'Unknown scripted policy {argument!r}; valid: '
                       f'{", ".join(sorted(SCRIPTED_POLICIES))}.')
    return functools.partial(_scripted, argument, seed)
  if kind == 'exported' and argument:
    return functools.partial(_exported, argument)
  if kind == 'bundled':
    bundled.policy_path(argument)  # Refuses unknown names now.
    return functools.partial(_bundled, argument)
  if kind == 'checkpoint' and argument:
    domain = environments.parse(environment).domain
    return functools.partial(_checkpoint, argument, domain)
  raise ValueError(
      f'Pre-trained policy source {source!r} must be one of "random", '
      f'"scripted:<{"|".join(SCRIPTED_POLICIES)}>", "exported:<dir>", '
      f'"bundled:<{"|".join(bundled.bundled_names())}>" or "checkpoint:<dir>".')


def policy_factories(sources: str, environment: str,
                     seed: int = 0) -> List[PolicyFactory]:
  """One factory per source of a comma-separated list ('bundled:a,random'):
  several pi_p for one agent, the k-th seeded seed + k; refuses malformed
  sources and unknown names, naming which."""
  names = [name.strip() for name in sources.split(',')]
  if not all(names):
    raise ValueError(f'Empty pre-trained policy source in {sources!r}.')
  return [policy_factory(name, environment, seed + k)
          for k, name in enumerate(names)]


def saved_model_path(source: str) -> str:
  """The SavedModel directory `source` names: 'bundled:<name>' (or the bare
  name), or 'exported:<dir>' (what `run_ngu` writes to <run_dir>/policy);
  other sources, which are no SavedModel, are refused naming these."""
  kind, _, argument = source.partition(':')
  if kind == 'exported' and argument:
    return argument
  if kind == 'bundled' and argument:
    return bundled.policy_path(argument)
  if ':' not in source and source != 'random':
    return bundled.policy_path(source)  # A bare name; unknown ones listed.
  raise ValueError(
      f'{source!r} names no SavedModel: pass a bundled policy\'s name '
      f'({", ".join(bundled.bundled_names())}), "bundled:<name>" or '
      '"exported:<dir>" (a pre-training run\'s <run_dir>/policy).')


def weights_checkpoint(source: str) -> str:
  """The weight-transfer checkpoint directory named by `source`: a directory,
  or 'bundled:<name>' for a bundled policy's weights."""
  if source.startswith('bundled:'):
    return bundled.weights_path(source.partition(':')[2])
  return source
