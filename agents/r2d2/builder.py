"""R2D2's pieces: prioritised sequence replay, epsilon-greedy batched actors
that store their LSTM state, and the recurrent double-Q learner."""

import copy
from typing import Any, Callable, Iterator, List, Optional, Sequence

import acme
from acme import adders as acme_adders
from acme import specs
from acme.adders import reverb as adders
from acme.datasets import reverb as datasets
from acme.tf import utils as tf2_utils
import reverb
import sonnet as snt

from behavior_transfer.acting import structured_adder
from behavior_transfer.acting import whole_sequence_adder
from behavior_transfer.agents import builders
from behavior_transfer.agents.r2d2 import actor as r2d2_actor
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.agents.r2d2 import learning

# environment spec (and keyword arguments) -> recurrent Q-network.
NetworkFactory = Callable[..., snt.RNNCore]


def make_replay_table(config: r2d2_config.R2D2Config,
                      signature: Any) -> reverb.Table:
  """The prioritised sequence table, rate-limited by samples per insert."""
  if config.samples_per_insert:
    error_buffer = max(
        config.min_replay_size * config.samples_per_insert *
        config.samples_per_insert_tolerance, 2. * config.batch_size)
    limiter = reverb.rate_limiters.SampleToInsertRatio(
        samples_per_insert=config.samples_per_insert,
        min_size_to_sample=config.min_replay_size,
        error_buffer=error_buffer)
  else:
    limiter = reverb.rate_limiters.MinSize(config.min_replay_size)
  return reverb.Table(
      name=adders.DEFAULT_PRIORITY_TABLE,
      sampler=reverb.selectors.Prioritized(config.priority_exponent),
      remover=reverb.selectors.Fifo(),
      max_size=config.max_replay_size,
      rate_limiter=limiter,
      signature=signature)


class R2D2Builder(builders.AgentBuilder):
  """Distributed R2D2 (Kapturowski et al. 2019) with batched actors."""

  learner_columns = builders.LEARNER_COLUMNS
  actor_columns = builders.ACTOR_COLUMNS
  evaluator_columns = builders.EVALUATOR_COLUMNS

  def __init__(self, config: r2d2_config.R2D2Config,
               network_factory: NetworkFactory):
    """`network_factory(environment_spec)` makes the Q-network."""
    self._config = config
    self._network_factory = network_factory

  @property
  def config(self) -> r2d2_config.R2D2Config:
    return self._config

  @property
  def r2d2_config(self) -> r2d2_config.R2D2Config:
    return self._config

  def _new_network(self, environment_spec: specs.EnvironmentSpec,
                   **kwargs) -> snt.RNNCore:
    return self._network_factory(environment_spec, **kwargs)

  def make_network(self, environment_spec: specs.EnvironmentSpec,
                   **kwargs) -> snt.RNNCore:
    network = self._new_network(environment_spec, **kwargs)
    tf2_utils.create_variables(network, [environment_spec.observations])
    return network

  def validate(self, environment_spec: specs.EnvironmentSpec) -> None:
    """Builds a reduced-precision acting network once, so that a factory
    without a `dtype` argument, or a runtime without oneDNN, is refused when
    the program is built, not in every actor."""
    dtype = self.r2d2_config.acting_dtype
    if dtype == 'float32':
      return
    try:
      self.make_acting_network(environment_spec)
    except TypeError as error:
      raise ValueError(
          f'acting_dtype {dtype!r} needs a network factory that takes '
          f'`dtype` (as networks.make_q_network does): {error}') from error

  def make_acting_network(self, environment_spec: specs.EnvironmentSpec
                          ) -> snt.RNNCore:
    """The Q-network in `acting_dtype`; float32 values go in and out, and
    the variable client casts the learner's float32 weights on fetching."""
    dtype = self.r2d2_config.acting_dtype
    if dtype == 'float32':  # Factories that know no dtype work as before.
      return self.make_network(environment_spec)
    return self.make_network(environment_spec, dtype=dtype)

  def replay_signature(self, environment_spec: specs.EnvironmentSpec):
    """What each replay item holds: sequences of steps with the LSTM state."""
    return adders.SequenceAdder.signature(
        environment_spec, {'core_state': self._core_state_spec(
            environment_spec)},
        sequence_length=self.r2d2_config.sequence_length)

  def _core_state_spec(self, environment_spec: specs.EnvironmentSpec):
    network = self._new_network(environment_spec)
    return tf2_utils.squeeze_batch_dim(network.initial_state(1))

  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec
                         ) -> List[reverb.Table]:
    return [make_replay_table(self.r2d2_config,
                              self.replay_signature(environment_spec))]

  def make_dataset_iterator(self, replay_client: reverb.Client
                            ) -> Iterator[reverb.ReplaySample]:
    config = self.r2d2_config
    return iter(datasets.make_reverb_dataset(
        server_address=replay_client.server_address,
        batch_size=config.batch_size, prefetch_size=config.prefetch_size))

  def make_adder(self, replay_client: reverb.Client) -> acme_adders.Adder:
    return structured_adder.make_sequence_adder(
        replay_client, self.r2d2_config.sequence_length,
        self.r2d2_config.replay_period,
        initial_priority=self.r2d2_config.initial_priority)

  def make_adders(self, replay_client: reverb.Client,
                  count: int) -> List[acme_adders.Adder]:
    """The items `make_adder`'s would write; for several environments
    through one writer shared by the actor's adders, unless the config says
    otherwise (`R2D2Config.share_replay_writer`)."""
    config = self.r2d2_config
    return whole_sequence_adder.make_sequence_adders(
        replay_client, count, config.sequence_length, config.replay_period,
        initial_priority=config.initial_priority,
        share_writer=config.share_replay_writer)

  def epsilons(self, environment_indices: Optional[Sequence[int]],
               num_environments: Optional[int], count: int) -> List[float]:
    """Epsilon of each of `count` environments: theirs on the ladder of
    `num_environments`, or the evaluator's for None indices."""
    if environment_indices is None:
      return [self.r2d2_config.evaluation_epsilon] * count
    ladder = self.r2d2_config.epsilons(
        _ladder_length(environment_indices, num_environments))
    return [ladder[i] for i in environment_indices]

  def make_variable_client(self, network: snt.Module,
                           variable_source: Optional[acme.VariableSource]):
    return r2d2_actor.make_variable_client(
        network, variable_source, self.r2d2_config.variable_update_period)

  def make_actor(self, environment_spec, network, seeds, adders=None,
                 variable_source=None, environment_indices=None,
                 num_environments=None) -> r2d2_actor.EpsilonGreedyActor:
    del environment_spec
    return r2d2_actor.EpsilonGreedyActor(
        network, self.epsilons(environment_indices, num_environments,
                               len(seeds)), adders,
        self.make_variable_client(network, variable_source), seeds)

  def make_learner(self, environment_spec, dataset, replay_client, counter,
                   logger) -> learning.R2D2Learner:
    network = self._learner_network(environment_spec)
    target_network = copy.deepcopy(network)
    tf2_utils.create_variables(target_network,
                               [environment_spec.observations])
    return self._learner(environment_spec, network, target_network, dataset,
                         replay_client, counter, logger)

  def _learner_network(self, environment_spec: specs.EnvironmentSpec
                       ) -> snt.RNNCore:
    """The online network before training: fresh here."""
    return self.make_network(environment_spec)

  def _learner(self, environment_spec, network, target_network, dataset,
               replay_client, counter, logger) -> learning.R2D2Learner:
    """The learner of `network`; `replay_client` is the replay server's
    `reverb.Client` (`priority_client` makes the learner's)."""
    del environment_spec
    return learning.R2D2Learner(network, target_network, self.r2d2_config,
                                dataset, priority_client(replay_client),
                                counter, logger)


def priority_client(replay_client: reverb.Client) -> reverb.TFClient:
  """The client a learner updates priorities with, inside tf.function."""
  return reverb.TFClient(replay_client.server_address)


def _ladder_length(environment_indices: Sequence[int],
                   num_environments: Optional[int]) -> int:
  """The exploration ladder's length, checked against the indices on it."""
  if num_environments is None or max(environment_indices) >= num_environments:
    raise ValueError(
        f'Acting environments {list(environment_indices)} need the number of '
        f'environments over all actors (num_environments={num_environments}).')
  return num_environments
