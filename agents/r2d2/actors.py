"""R2D2 acting: epsilon-greedy recurrent actors that fetch learner weights."""

from typing import Optional

import acme
from acme import adders
from acme.agents.tf import actors
from acme.tf import variable_utils
import sonnet as snt
import trfl

from behavior_transfer.networks import q_network


def epsilon_greedy_policy(network: q_network.RecurrentQNetwork,
                          epsilon: float) -> snt.DeepRNN:
  """The Q-network followed by epsilon-greedy sampling over its outputs."""
  return snt.DeepRNN(
      [network, lambda q: trfl.epsilon_greedy(q, epsilon=epsilon).sample()])


def make_variable_client(
    network: snt.Module, variable_source: Optional[acme.VariableSource],
    update_period: int) -> Optional[variable_utils.VariableClient]:
  """Keeps `network` in sync with the learner's; fetches once before acting."""
  if variable_source is None:
    return None
  client = variable_utils.VariableClient(
      variable_source, {'policy': network.variables},
      update_period=update_period)
  client.update_and_wait()
  return client


def make_actor(network: q_network.RecurrentQNetwork,
               epsilon: float,
               adder: Optional[adders.Adder] = None,
               variable_source: Optional[acme.VariableSource] = None,
               variable_update_period: int = 400) -> actors.RecurrentActor:
  """An Acme recurrent actor that stores its LSTM state for the learner."""
  return actors.RecurrentActor(
      epsilon_greedy_policy(network, epsilon), adder,
      make_variable_client(network, variable_source, variable_update_period),
      store_recurrent_state=True)
