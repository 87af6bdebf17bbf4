"""Behavior Transfer's pieces: R2D2 whose actors explore with pi_p.

The Q-network has one output per primitive action, plus a+ when the extra
action is in use. Actors load pi_p locally (`pretrained_factory`) and run the
BT actor, writing with the BT adder; the learner is the extra-action learner
when a+ is in use; the evaluator acts greedily over A+ without flights.
Actor logs add the paper's figure 4 metrics: the fraction of steps whose
greedy choice is a+, the fraction in flights and the fraction executing a+.
Knowledge retention (`config.retention`, agents/retention) adds its terms to
the learner, pi_p's action distribution to every replayed step, and, for
behavioural cloning and EWC, a demonstration table and the demonstrator that
fills it with pi_p's episodes.
"""

import dataclasses
from typing import Optional, Sequence, Tuple, Union

from acme import specs
from acme.datasets import reverb as datasets
import reverb

from behavior_transfer.agents import builders
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import adder as bt_adder
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.bt import learning as bt_learning
from behavior_transfer.agents.r2d2 import builder as r2d2_builder
from behavior_transfer.agents.r2d2 import learning as r2d2_learning
from behavior_transfer.agents.retention import config as retention_config
from behavior_transfer.agents.retention import demonstrations
from behavior_transfer.agents.retention import losses as retention_losses
from behavior_transfer.networks import weight_transfer
from behavior_transfer.policies import pretrained as pretrained_lib
from behavior_transfer.policies import sources


class BTBuilder(r2d2_builder.R2D2Builder):
  """Transfer with one exploration mode: BT, its ablations or a baseline."""

  evaluator_columns = builders.EVALUATOR_COLUMNS + (
      'greedy_extra_action_fraction',)

  def __init__(self,
               config: bt_config.BTConfig,
               network_factory: r2d2_builder.NetworkFactory,
               pretrained_factory: Union[
                   None, sources.PolicyFactory,
                   Sequence[sources.PolicyFactory]] = None,
               weight_init: weight_transfer.WeightInit = (
                   weight_transfer.WeightInit.NONE),
               weights_checkpoint: Optional[str] = None):
    """`network_factory(environment_spec, num_outputs=...)` makes a
    Q-network; `pretrained_factory(environment_spec)` loads pi_p (needed by
    the modes that use it), and a sequence of factories loads several, one
    a+_k each. `weight_init` 'full' or 'partial' initialises
    the learner's Q-network from the pre-training checkpoint in
    `weights_checkpoint` (a directory, or 'bundled:<name>', resolved where
    the learner runs: the package's path differs between machines)."""
    super().__init__(config, network_factory)
    if pretrained_factory is None:
      self._pretrained_factories = []
    elif callable(pretrained_factory):
      self._pretrained_factories = [pretrained_factory]
    else:
      self._pretrained_factories = list(pretrained_factory)
    self._weight_init = weight_transfer.WeightInit(weight_init)
    self._weights_checkpoint = weights_checkpoint

  @property
  def r2d2_config(self):
    return self._config.r2d2

  @property
  def _retention(self) -> retention_config.RetentionConfig:
    return self._config.retention

  @property
  def actor_columns(self) -> Tuple[str, ...]:
    return builders.ACTOR_COLUMNS + bt_actor.metric_columns(
        self._num_policies(),
        self._config.handover.guidance != bt_config.Guidance.NONE)

  @property
  def learner_columns(self) -> Tuple[str, ...]:
    return builders.LEARNER_COLUMNS + retention_losses.columns(
        self._retention)

  def _loads_pretrained_policy(self) -> bool:
    return (self._config.exploration.uses_pretrained_policy or
            self._retention.records_pretrained_policy or
            self._retention.needs_demonstrations)

  def _num_policies(self) -> int:
    """How many pi_p the actors run (at least one where any is used)."""
    return max(len(self._pretrained_factories), 1)

  def _pretrained_policies(self, environment_spec: specs.EnvironmentSpec):
    return [factory(environment_spec)
            for factory in self._pretrained_factories]

  def num_choices(self, environment_spec: specs.EnvironmentSpec) -> int:
    """Q's outputs: the primitive actions, plus one a+_k per pi_p when the
    extra action is in use."""
    return environment_spec.actions.num_values + (
        self._num_policies() if self._config.exploration.uses_extra_action
        else 0)

  def _new_network(self, environment_spec, **kwargs):
    return self._network_factory(
        environment_spec, num_outputs=self.num_choices(environment_spec),
        **kwargs)

  def validate(self, environment_spec: specs.EnvironmentSpec) -> None:
    """Refuses a missing or mismatching pi_p, and weights that do not fit the
    Q-network, when the program is built rather than deep inside a node."""
    super().validate(environment_spec)
    exploration = self._config.exploration
    if self._loads_pretrained_policy():
      if not self._pretrained_factories:
        needs = (f'Exploration {exploration.value!r}'
                 if exploration.uses_pretrained_policy else
                 'Retention by ' + ', '.join(
                     m.value for m in self._retention.methods))
        raise ValueError(f'{needs} needs a pre-trained policy.')
      for number, policy in enumerate(
          self._pretrained_policies(environment_spec)):
        try:
          pretrained_lib.check_action_spec(policy, environment_spec)
        except ValueError as error:
          raise ValueError(f'Pre-trained policy number {number}: {error}'
                           ) from error
    if self._retention.methods and len(self._pretrained_factories) > 1:
      raise ValueError('Knowledge retention learns towards one pi_p; '
                       f'{len(self._pretrained_factories)} were given.')
    handover_config = self._config.handover
    if not exploration.uses_extra_action and (
        handover_config.flight_end_margin is not None or
        handover_config.flight_policy_choice ==
        bt_config.PolicyChoice.SOFTMAX):
      raise ValueError(
          'Value-ended flights and the softmax choice of a flight\'s policy '
          f'read Q(s, a+_k); exploration {exploration.value!r} has no a+.')
    if handover_config.guidance != bt_config.Guidance.NONE and not (
        exploration.uses_pretrained_policy and
        0 <= handover_config.guide_policy < len(self._pretrained_factories)):
      raise ValueError(
          f'Episode-start guidance flies pi_p number '
          f'{handover_config.guide_policy}, but the exploration '
          f'{exploration.value!r} has {len(self._pretrained_factories)} '
          'pre-trained policies in use.' if exploration.uses_pretrained_policy
          else f'Episode-start guidance needs an exploration with pi_p, not '
          f'{exploration.value!r}.')
    if (self._retention.uses(retention_config.Method.EWC) and
        self._weight_init == weight_transfer.WeightInit.NONE):
      raise ValueError('EWC keeps the Q-network near pre-trained weights: it '
                       'needs full or partial initialisation from them.')
    if self._weight_init != weight_transfer.WeightInit.NONE:
      weight_transfer.check_compatible(
          self._weight_init, self._pretrained_network(environment_spec),
          self.make_network(environment_spec))

  def _pretrained_network(self, environment_spec: specs.EnvironmentSpec):
    """The pre-training Q-network (|A| outputs) from `weights_checkpoint`."""
    if not self._weights_checkpoint:
      raise ValueError(f'{self._weight_init.value} initialisation needs the '
                       'pre-training checkpoint directory.')
    network = self._network_factory(environment_spec)
    weight_transfer.restore_network(
        network, sources.weights_checkpoint(self._weights_checkpoint),
        environment_spec)
    return network

  def replay_signature(self, environment_spec: specs.EnvironmentSpec,
                       records_pretrained_policy: Optional[bool] = None):
    """The agent table's (and, recording pi_p, the demonstrations')."""
    if records_pretrained_policy is None:
      records_pretrained_policy = self._retention.records_pretrained_policy
    return bt_adder.signature(environment_spec,
                              self.num_choices(environment_spec),
                              self._core_state_spec(environment_spec),
                              self.r2d2_config.sequence_length,
                              records_pretrained_policy)

  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec):
    tables = super().make_replay_tables(environment_spec)
    if self._retention.needs_demonstrations:
      tables.append(demonstrations.make_table(
          self._retention, self.r2d2_config.batch_size,
          self.replay_signature(environment_spec, True)))
    return tables

  def demonstration_steps(self) -> int:
    return (self._retention.demonstration_steps
            if self._retention.needs_demonstrations else 0)

  def make_demonstrator(self, environment_spec, replay_client, count
                        ) -> demonstrations.DemonstrationActor:
    config = self.r2d2_config
    return demonstrations.DemonstrationActor(
        self._pretrained_factories[0](environment_spec),
        self._new_network(environment_spec).initial_state(1),
        self._retention.pretrained_temperature,
        demonstrations.make_adders(replay_client, config.sequence_length,
                                   config.replay_period, count,
                                   config.share_replay_writer), count)

  def _demonstration_iterator(self, replay_client: reverb.Client):
    return iter(datasets.make_reverb_dataset(
        server_address=replay_client.server_address,
        batch_size=self.r2d2_config.batch_size,
        prefetch_size=self.r2d2_config.prefetch_size,
        table=demonstrations.TABLE))

  def make_adder(self, replay_client: reverb.Client):
    return bt_adder.make_adder(
        replay_client, self.r2d2_config.sequence_length,
        self.r2d2_config.replay_period,
        initial_priority=self.r2d2_config.initial_priority)

  def make_actor(self, environment_spec, network, seeds, adders=None,
                 variable_source=None, environment_indices=None,
                 num_environments=None) -> bt_actor.BehaviorTransferActor:
    """BT in environments `environment_indices`; the evaluator acts greedily
    over A+ without flights or guidance."""
    exploration = self._config.exploration
    handover_config = self._config.handover
    records = self._retention.records_pretrained_policy
    pretrained = None
    if exploration.uses_pretrained_policy or records:
      pretrained = self._pretrained_policies(environment_spec)
    epsilons = self.epsilons(environment_indices, num_environments,
                             len(seeds))
    if environment_indices is None:
      levy_epsilons = [0.] * len(seeds)
      handover_config = dataclasses.replace(
          handover_config, guidance=bt_config.Guidance.NONE)
    else:
      ladder = self._config.levy_epsilons(num_environments)
      levy_epsilons = [ladder[i] for i in environment_indices]
    return bt_actor.BehaviorTransferActor(
        network, environment_spec.actions.num_values, exploration, epsilons,
        levy_epsilons, pretrained, adders,
        self.make_variable_client(network, variable_source),
        self._config.flight_length_exponent, seeds,
        records_pretrained_policy=records,
        pretrained_temperature=self._retention.pretrained_temperature,
        handover_config=handover_config)

  def _learner_network(self, environment_spec):
    network = self.make_network(environment_spec)
    if self._weight_init != weight_transfer.WeightInit.NONE:
      weight_transfer.initialise(self._weight_init,
                                 self._pretrained_network(environment_spec),
                                 network)
    return network

  def _learner(self, environment_spec, network, target_network, dataset,
               replay_client, counter, logger) -> r2d2_learning.R2D2Learner:
    del environment_spec
    learner_class = r2d2_learning.R2D2Learner
    extra = {}
    if self._config.exploration.uses_extra_action:
      learner_class = bt_learning.ExtraActionLearner
      extra = dict(num_extra_actions=self._num_policies())
    retention = self._retention
    ratio = (retention.demonstration_ratio if retention.uses(
        retention_config.Method.BEHAVIOURAL_CLONING) else 0.)
    return learner_class(
        network, target_network, self.r2d2_config, dataset,
        r2d2_builder.priority_client(replay_client), counter, logger,
        auxiliary_losses=retention_losses.make_losses(retention, network),
        demonstrations=(self._demonstration_iterator(replay_client)
                        if retention.needs_demonstrations else None),
        demonstration_ratio=ratio, **extra)
