"""The transfer program: distributed R2D2 whose actors explore with BT.

Same nodes as R2D2 (replay, counter, coordinator, learner, cacher, actors,
evaluator). Each actor loads pi_p locally and runs the BT actor with the BT
adder; the learner is the extra-action learner when a+ is in use; the evaluator
acts greedily over A+. Actor logs add the paper's figure 4 metrics: the
fraction of steps whose greedy choice is a+, and the fraction in flights.
"""

import functools
from typing import Any, Callable, Optional

import reverb

from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import adder as bt_adder
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.bt import learning as bt_learning
from behavior_transfer.agents.bt import pretrained as pretrained_lib
from behavior_transfer.agents.r2d2 import learning as r2d2_learning
from behavior_transfer.agents.r2d2 import program as r2d2_program
from behavior_transfer.networks import weight_transfer
from behavior_transfer.utils import logs

PretrainedFactory = Callable[[], pretrained_lib.PretrainedPolicy]
BT_ACTOR_COLUMNS = logs.ACTOR_COLUMNS + (
    'greedy_extra_action_fraction', 'flight_fraction', 'extra_action_fraction')


class DistributedBehaviorTransfer(r2d2_program.DistributedR2D2):
  """Builds the transfer program for one exploration mode."""

  def __init__(self,
               environment_factory: r2d2_program.EnvironmentFactory,
               network_factory: Callable[..., Any],
               pretrained_factory: Optional[PretrainedFactory],
               config: bt_config.BTConfig,
               run_dir: str,
               max_actor_steps: int,
               seed: int = 0,
               stop_program: Optional[Callable[[], Any]] = None,
               log_every_seconds: float = 10.,
               weight_init: weight_transfer.WeightInit = (
                   weight_transfer.WeightInit.NONE),
               weights_checkpoint: Optional[str] = None):
    """`weight_init` 'full' or 'partial' initialises the learner's Q-network
    from the pre-training learner checkpoint in `weights_checkpoint`."""
    self._bt_config = config
    self._pretrained_factory = pretrained_factory
    self._weight_init = weight_transfer.WeightInit(weight_init)
    self._weights_checkpoint = weights_checkpoint
    super().__init__(environment_factory, network_factory, config.r2d2,
                     run_dir, max_actor_steps, seed, stop_program,
                     log_every_seconds)
    self._num_actions = self.environment_spec.actions.num_values
    self._num_choices = self._num_actions + int(
        config.exploration.uses_extra_action)
    # The Q-network has one output per choice in A (+ a+).
    self._network_factory = functools.partial(
        network_factory, num_outputs=self._num_choices)
    self._pretrained_network_factory = network_factory
    if config.exploration.uses_pretrained_policy:
      if pretrained_factory is None:
        raise ValueError(f'Exploration {config.exploration.value!r} needs a '
                         'pre-trained policy.')
      # Refuse a mismatching pi_p now, not deep inside an actor.
      pretrained_lib.check_action_spec(pretrained_factory(),
                                       self.environment_spec)
    if self._weight_init != weight_transfer.WeightInit.NONE:
      # Likewise a checkpoint that does not fit the downstream network.
      weight_transfer.check_compatible(
          self._weight_init, self._pretrained_network(), self._make_network())

  def _pretrained_network(self):
    """The pre-training Q-network (|A| outputs) from `weights_checkpoint`."""
    if not self._weights_checkpoint:
      raise ValueError(f'{self._weight_init.value} initialisation needs the '
                       'pre-training checkpoint directory.')
    network = self._pretrained_network_factory(self.environment_spec)
    weight_transfer.restore_network(network, self._weights_checkpoint,
                                    self.environment_spec)
    return network

  def make_learner_network(self):
    network = self._make_network()
    if self._weight_init != weight_transfer.WeightInit.NONE:
      weight_transfer.initialise(self._weight_init, self._pretrained_network(),
                                 network)
    return network

  def replay_signature(self):
    return bt_adder.signature(self.environment_spec, self._num_choices,
                              self._core_state_spec(),
                              self._config.sequence_length)

  def make_learner(self, network, target_network, iterator, replay_client,
                   counter, logger) -> r2d2_learning.R2D2Learner:
    learner_class = (bt_learning.ExtraActionLearner
                     if self._bt_config.exploration.uses_extra_action else
                     r2d2_learning.R2D2Learner)
    return learner_class(network, target_network, self._config, iterator,
                         replay_client, counter, logger)

  def make_actor(self, network, indices, seeds, adders, variable_client,
                 evaluation=False) -> bt_actor.BehaviorTransferActor:
    """BT in environments `indices`; the evaluator acts greedily over A+
    without flights."""
    pretrained = None
    if self._bt_config.exploration.uses_pretrained_policy:
      pretrained = self._pretrained_factory()
    if evaluation:
      epsilons = [self._config.evaluation_epsilon] * len(seeds)
      levy_epsilons = [0.] * len(seeds)
    else:
      epsilons = [self._bt_config.epsilons()[i] for i in indices]
      levy_epsilons = [self._bt_config.levy_epsilons()[i] for i in indices]
    return bt_actor.BehaviorTransferActor(
        network, self._num_actions, self._bt_config.exploration, epsilons,
        levy_epsilons, pretrained, adders, variable_client,
        self._bt_config.flight_length_exponent, seeds)

  def make_adder(self, replay: reverb.Client):
    return bt_adder.make_adder(replay, self._config.sequence_length,
                               self._config.replay_period)

  actor_columns = BT_ACTOR_COLUMNS
  evaluator_columns = logs.EVALUATOR_COLUMNS + ('greedy_extra_action_fraction',)
