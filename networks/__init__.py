"""Networks shared by every agent: recurrent dueling Q-networks."""

from behavior_transfer.networks.q_network import AtariTorso
from behavior_transfer.networks.q_network import make_atari_network
from behavior_transfer.networks.q_network import make_small_network
from behavior_transfer.networks.q_network import make_tiny_atari_network
from behavior_transfer.networks.q_network import MiniGridTorso
from behavior_transfer.networks.q_network import RecurrentQNetwork

import functools
import json
import os
from typing import Callable

from acme import specs as _specs
import sonnet as snt

from behavior_transfer.networks import q_network


# Network sizes per domain: 'standard' is the domain's preset (Agent57's
# network on Atari, a small one on MiniGrid); 'tiny' shrinks the Atari
# network for tests and smoke runs of the Atari programs on CPU.
NETWORK_SIZES = {'atari': ('standard', 'tiny'), 'minigrid': ('standard',)}


def check_network_size(domain: str, size: str) -> str:
  """Returns `size` if the domain has it; otherwise names the valid ones."""
  if domain not in NETWORK_SIZES:
    raise ValueError(f'No Q-network preset for domain {domain!r}; valid: '
                     f'{", ".join(NETWORK_SIZES)}.')
  if size not in NETWORK_SIZES[domain]:
    raise ValueError(f'Unknown network size {size!r} for {domain}; valid: '
                     f'{", ".join(NETWORK_SIZES[domain])}.')
  return size


def network_size_of_run(checkpoint_dir: str) -> str:
  """The network size a learner checkpoint was written with, read from its
  run's config.json (`<run_dir>/checkpoints/learner` -> `<run_dir>`);
  'standard' when there is none (bundled weights, other layouts)."""
  config_path = os.path.join(checkpoint_dir, os.pardir, os.pardir,
                             'config.json')
  if not os.path.exists(config_path):
    return 'standard'
  with open(config_path) as f:
    return _find_setting(json.load(f), 'network_size') or 'standard'


def _find_setting(settings: dict, key: str):
  """`key`'s value at any depth of a run's config.json (its agent config
  nests the R2D2 one), or None."""
  if key in settings:
    return settings[key]
  for value in settings.values():
    if isinstance(value, dict):
      found = _find_setting(value, key)
      if found is not None:
        return found
  return None


def make_q_network(domain: str, environment_spec: _specs.EnvironmentSpec,
                   num_outputs=None, size: str = 'standard',
                   dtype: q_network.DType = 'float32') -> RecurrentQNetwork:
  """The Q-network preset for a domain ('atari' or 'minigrid') and size,
  computing in `dtype` (bfloat16 for actors on CPUs with AMX)."""
  check_network_size(domain, size)
  num_actions = environment_spec.actions.num_values
  if domain == 'atari':
    make = make_atari_network if size == 'standard' else make_tiny_atari_network
    return make(num_actions, num_outputs, dtype=dtype)
  return make_small_network(num_actions, num_outputs, dtype=dtype)


def torso_factory(domain: str, size: str = 'standard',
                  rescale: bool = True) -> Callable[[], snt.Module]:
  """The observation torso of the domain's Q-network preset of this size
  (`rescale=False` for inputs that are already normalised), for models
  beside the Q-network (NGU's embedding and RND)."""
  check_network_size(domain, size)
  if domain == 'atari':
    if size == 'tiny':
      return functools.partial(
          AtariTorso, q_network.TINY_HIDDEN_SIZE, rescale,
          q_network.TINY_ATARI_CONVS)
    return functools.partial(AtariTorso, rescale=rescale)
  return functools.partial(MiniGridTorso, rescale=rescale)
