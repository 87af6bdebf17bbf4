"""Networks shared by every agent: recurrent dueling Q-networks."""

from behavior_transfer.networks.q_network import AtariTorso
from behavior_transfer.networks.q_network import make_atari_network
from behavior_transfer.networks.q_network import make_small_network
from behavior_transfer.networks.q_network import MiniGridTorso
from behavior_transfer.networks.q_network import RecurrentQNetwork

from acme import specs as _specs


def make_q_network(domain: str, environment_spec: _specs.EnvironmentSpec,
                   num_outputs=None) -> RecurrentQNetwork:
  """The Q-network preset for a domain ('atari' or 'minigrid')."""
  num_actions = environment_spec.actions.num_values
  if domain == 'atari':
    return make_atari_network(num_actions, num_outputs)
  if domain == 'minigrid':
    return make_small_network(num_actions, num_outputs)
  raise ValueError(f'No Q-network preset for domain {domain!r}; '
                   'valid: atari, minigrid.')
