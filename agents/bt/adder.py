"""The BT adder: Acme's sequences with what the extra-action learner needs.

Each step stores, besides observation, reward and discount:
* `action`: the action chosen in A+ (a+ is index |A|), or the executed action
  on flight steps (stored as ordinary off-policy actions);
* extras `executed_action`: the primitive action the environment received;
* extras `in_flight`: whether pi_p was flying;
* extras `core_state`: the Q-network's LSTM state before the step;
* extras `pretrained_policy` (kickstarting only): pi_p's action distribution.
"""

from typing import Any, Optional

from acme import adders as acme_adders
from acme import specs
from acme.adders import reverb as adders
import numpy as np
import reverb

from behavior_transfer.acting import structured_adder


def extras_spec(core_state_spec: Any,
                pretrained_actions: Optional[int] = None) -> dict:
  """The extras of a step; with `pretrained_actions` (|A| of pi_p) also
  pi_p's action distribution."""
  spec = {
      'executed_action': specs.Array((), np.int32, name='executed_action'),
      'in_flight': specs.Array((), np.bool_, name='in_flight'),
      'core_state': core_state_spec,
  }
  if pretrained_actions:
    spec['pretrained_policy'] = specs.Array(
        (pretrained_actions,), np.float32, name='pretrained_policy')
  return spec


def replay_environment_spec(environment_spec: specs.EnvironmentSpec,
                            num_choices: int) -> specs.EnvironmentSpec:
  """The environment spec with actions widened to the choices in A+."""
  return environment_spec._replace(
      actions=specs.DiscreteArray(num_choices, dtype=np.int32, name='action'))


def signature(environment_spec: specs.EnvironmentSpec, num_choices: int,
              core_state_spec: Any, sequence_length: int,
              records_pretrained_policy: bool = False):
  """The Reverb table signature of BT sequences."""
  pretrained_actions = (environment_spec.actions.num_values
                        if records_pretrained_policy else None)
  return adders.SequenceAdder.signature(
      replay_environment_spec(environment_spec, num_choices),
      extras_spec(core_state_spec, pretrained_actions),
      sequence_length=sequence_length)


def make_adder(client: reverb.Client, sequence_length: int, period: int,
               **sequence_adder_kwargs) -> acme_adders.Adder:
  """The adder of BT steps (the BT actor writes the extras): the items of
  Acme's SequenceAdder, through `acting.structured_adder`.

  Takes every argument of `acme.adders.reverb.SequenceAdder`: e.g.
  `priority_fns={'my_table': None}` writes to another table than Acme's
  default 'priority_table' (with its priority function, None for 1.0),
  `end_of_episode_behavior` chooses what happens to the last sequence of an
  episode. The learner needs items of exactly `sequence_length` steps
  (Acme's default, zero-padding episode ends, writes them).
  """
  return structured_adder.make_sequence_adder(
      client, sequence_length, period, **sequence_adder_kwargs)
