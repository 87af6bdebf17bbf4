"""Distributed R2D2 as a Launchpad program.

Nodes (SPEC section 10): replay (Reverb, prioritised table with a FIFO remover
and a rate limiter), counter, learner (also the variable source), cacher,
N epsilon-greedy actors, each stepping `envs_per_actor` environments with one
batched network call per step, an evaluator and a step-budget coordinator. Learner and
counter checkpoint into the run directory and restore from it, so launching the
same run directory again resumes an interrupted run.
"""

import copy
from typing import Any, Callable, List, Optional, Sequence, Tuple

import acme
from acme import specs
from acme.adders import reverb as adders
from acme.datasets import reverb as datasets
from acme.tf import utils as tf2_utils
from acme.utils import counting
from acme.utils import observers
import dm_env
import launchpad as lp
import reverb
import tensorflow as tf

from behavior_transfer.agents.r2d2 import actors
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.agents.r2d2 import learning
from behavior_transfer.environments import measures
from behavior_transfer.networks import q_network
from behavior_transfer.utils import batched_loop
from behavior_transfer.utils import environment_batch
from behavior_transfer.utils import logs
from behavior_transfer.utils import checkpointing
from behavior_transfer.utils import coordinator
from behavior_transfer.utils import nodes
from behavior_transfer.utils import variable_cache

EnvironmentFactory = Callable[[int], dm_env.Environment]  # seed -> env
NetworkFactory = Callable[[specs.EnvironmentSpec], q_network.RecurrentQNetwork]


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


class DistributedR2D2:
  """Builds the node constructors and the program of distributed R2D2."""

  def __init__(self,
               environment_factory: EnvironmentFactory,
               network_factory: NetworkFactory,
               config: r2d2_config.R2D2Config,
               run_dir: str,
               max_actor_steps: int,
               seed: int = 0,
               stop_program: Optional[Callable[[], Any]] = None,
               log_every_seconds: float = 10.):
    self._environment_factory = environment_factory
    self._network_factory = network_factory
    self._config = config
    self._run_dir = run_dir
    self._max_actor_steps = max_actor_steps
    self._seed = seed
    self._stop_program = stop_program
    self._log_every_seconds = log_every_seconds
    if config.num_actors < 1:
      raise ValueError(f'A program needs at least one actor (num_actors='
                       f'{config.num_actors}).')
    if config.envs_per_actor < 1:
      raise ValueError('An actor needs at least one environment '
                       f'(envs_per_actor={config.envs_per_actor}).')
    environment = environment_factory(seed)
    self._environment_spec = specs.make_environment_spec(environment)
    environment.close()

  @property
  def environment_spec(self) -> specs.EnvironmentSpec:
    return self._environment_spec

  def _make_network(self) -> q_network.RecurrentQNetwork:
    network = self._network_factory(self._environment_spec)
    tf2_utils.create_variables(network, [self._environment_spec.observations])
    return network

  def _core_state_spec(self):
    network = self._network_factory(self._environment_spec)
    return tf2_utils.squeeze_batch_dim(network.initial_state(1))

  def replay_signature(self):
    """What each replay item holds: sequences of steps with the LSTM state."""
    return adders.SequenceAdder.signature(
        self._environment_spec, {'core_state': self._core_state_spec()},
        sequence_length=self._config.sequence_length)

  # Node constructors.

  def replay(self):
    return [make_replay_table(self._config, self.replay_signature())]

  def counter(self):
    return checkpointing.CheckpointedCounter(
        self._run_dir, self._config.checkpoint_seconds)

  def coordinator(self, counter: counting.Counter):
    return coordinator.StepBudget(
        counter, self._max_actor_steps, self._stop_program or lp.stop,
        self._run_dir, self._config.stall_seconds)

  def make_learner_network(self) -> q_network.RecurrentQNetwork:
    """The learner's online network before training (fresh here)."""
    return self._make_network()

  def learner(self, replay: reverb.Client, counter: counting.Counter):
    network = self.make_learner_network()
    target_network = copy.deepcopy(network)
    tf2_utils.create_variables(target_network,
                               [self._environment_spec.observations])
    dataset = datasets.make_reverb_dataset(
        server_address=replay.server_address,
        batch_size=self._config.batch_size,
        prefetch_size=self._config.prefetch_size)
    learner = self.make_learner(
        network, target_network, iter(dataset),
        reverb.TFClient(replay.server_address), counter,
        logs.make_logger(self._run_dir, 'learner', self.learner_columns,
                         self._log_every_seconds))
    checkpointer = checkpointing.make_checkpointer(
        {checkpointing.LEARNER: learner.state}, self._run_dir,
        checkpointing.LEARNER, self._config.checkpoint_seconds)
    return checkpointing.CheckpointedLearner(learner, checkpointer,
                                             self.after_learner_save(network))

  def after_learner_save(self, network) -> Optional[Callable[[], Any]]:
    """What the learner does after each checkpoint; nothing here."""
    del network
    return None

  learner_columns = logs.LEARNER_COLUMNS

  def make_learner(self, network, target_network, iterator, replay_client,
                   counter, logger) -> learning.R2D2Learner:
    return learning.R2D2Learner(network, target_network, self._config,
                                iterator, replay_client, counter, logger)

  def environment_seed(self, index: int) -> int:
    """Seed of acting environment `index` (actor-major over all actors'
    environments); the evaluator's is the last index."""
    return self._seed * 100_000 + index

  def evaluator_seed(self) -> int:
    return self.environment_seed(99_999)

  def make_environments(
      self, seeds: Sequence[int],
      variable_source: Optional[acme.VariableSource] = None
  ) -> Tuple[environment_batch.EnvironmentBatch,
             List[List[observers.EnvLoopObserver]]]:
    """An actor's (or the evaluator's) environments, one per seed, and for
    each the observers that add columns to its episode rows: the return
    under every task of the domain and the exploration measures, for this
    project's environments."""
    del variable_source
    raw = [self._environment_factory(seed) for seed in seeds]
    return (environment_batch.EnvironmentBatch(raw),
            [measures.observers_for(env) for env in raw])

  def _environment_loop(self, label: str, environments, loop_observers,
                        actor: batched_loop.BatchedActor,
                        counter: counting.Counter, columns: Sequence[str],
                        pause_seconds: float = 0.
                        ) -> batched_loop.BatchedEnvironmentLoop:
    """The loop of one actor node (or, pausing, of the evaluator), logging
    `columns` plus those of the environments' observers."""
    columns = tuple(columns) + tuple(
        c for o in loop_observers[0] for c in getattr(o, 'columns', ()))
    return batched_loop.BatchedEnvironmentLoop(
        # Counts reach the counter when episodes end (not a second later),
        # so its checkpoints hold every logged episode.
        environments, actor,
        counting.Counter(counter, label.split('_')[0], time_delta=0.),
        logs.make_logger(self._run_dir, label, columns,
                         self._log_every_seconds),
        loop_observers, label=label, pause_seconds=pause_seconds)

  def actor_environment_indices(self, actor_id: int) -> range:
    """Which acting environments (and epsilons) actor `actor_id` steps."""
    count = self._config.envs_per_actor
    return range(actor_id * count, (actor_id + 1) * count)

  def make_actor(self, network, indices: Sequence[int], seeds: Sequence[int],
                 adders, variable_client, evaluation: bool = False
                 ) -> batched_loop.BatchedActor:
    """The batched actor of environments `indices` (greedy-ish when
    evaluating)."""
    if evaluation:
      epsilons = [self._config.evaluation_epsilon] * len(seeds)
    else:
      epsilons = [self._config.epsilons()[i] for i in indices]
    return actors.EpsilonGreedyActor(network, epsilons, adders,
                                     variable_client, seeds)

  actor_columns = logs.ACTOR_COLUMNS
  evaluator_columns = logs.EVALUATOR_COLUMNS

  def make_adder(self, replay: reverb.Client) -> adders.SequenceAdder:
    return adders.SequenceAdder(
        client=replay, period=self._config.replay_period,
        sequence_length=self._config.sequence_length)

  def _acting_loop(self, label: str, indices: Sequence[int],
                   seeds: Sequence[int], variable_source, counter,
                   replay: Optional[reverb.Client] = None,
                   pause_seconds: float = 0.):
    tf.random.set_seed(seeds[0])
    network = self._make_network()
    actor = self.make_actor(
        network, indices, seeds,
        [self.make_adder(replay) for _ in seeds] if replay else None,
        actors.make_variable_client(network, variable_source,
                                    self._config.variable_update_period),
        evaluation=replay is None)
    environments, loop_observers = self.make_environments(seeds,
                                                          variable_source)
    return self._environment_loop(
        label, environments, loop_observers, actor, counter,
        self.evaluator_columns if replay is None else self.actor_columns,
        pause_seconds)

  def actor(self, replay: reverb.Client, variable_source: acme.VariableSource,
            counter: counting.Counter,
            actor_id: int) -> batched_loop.BatchedEnvironmentLoop:
    indices = self.actor_environment_indices(actor_id)
    return self._acting_loop(
        f'actor_{actor_id}', indices,
        [self.environment_seed(i) for i in indices], variable_source,
        counter, replay)

  def evaluator(self, variable_source: acme.VariableSource,
                counter: counting.Counter
                ) -> batched_loop.BatchedEnvironmentLoop:
    return self._acting_loop(
        'evaluator', [], [self.evaluator_seed()], variable_source, counter,
        pause_seconds=self._config.evaluation_pause_seconds)

  # The program.

  def _node(self, constructor, name: str, *args) -> lp.CourierNode:
    managed = nodes.ManagedNode(constructor, name, self._run_dir,
                                self._stop_program)
    return lp.CourierNode(managed, *args)

  def build(self, name: str = 'r2d2') -> lp.Program:
    program = lp.Program(name=name)
    with program.group('replay'):
      replay = program.add_node(checkpointing.ReplayNode(
          self.replay, self._run_dir,
          self._config.checkpoint_seconds if self._config.checkpoint_replay
          else None, self._stop_program))
    with program.group('counter'):
      counter = program.add_node(self._node(self.counter, 'counter'))
    with program.group('coordinator'):
      program.add_node(self._node(self.coordinator, 'coordinator', counter))
    with program.group('learner'):
      learner = program.add_node(
          self._node(self.learner, 'learner', replay, counter))
    with program.group('cacher'):
      cacher = program.add_node(
          self._node(variable_cache.VariableCache, 'cacher', learner))
    with program.group('evaluator'):
      program.add_node(
          self._node(self.evaluator, 'evaluator', cacher, counter))
    with program.group('actor'):
      for actor_id in range(self._config.num_actors):
        program.add_node(
            self._node(self.actor, f'actor_{actor_id}', replay, cacher,
                       counter, actor_id))
    return program
