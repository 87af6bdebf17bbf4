"""Distributed R2D2 as a Launchpad program.

Nodes (SPEC section 10): replay (Reverb, prioritised table with a FIFO remover
and a rate limiter), counter, learner (also the variable source), cacher,
N epsilon-greedy actors, an evaluator and a step-budget coordinator. Learner and
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
from behavior_transfer.networks import q_network
from behavior_transfer.utils import logs
from behavior_transfer.utils import loops
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

  def make_environment(self, seed: int,
                       variable_source: Optional[acme.VariableSource] = None
                       ) -> Tuple[dm_env.Environment,
                                  List[observers.EnvLoopObserver]]:
    """An actor's or the evaluator's environment, and observers that add
    columns to its episode logs (none here; subclasses add measures)."""
    del variable_source
    return self._environment_factory(seed), []

  def _environment_loop(self, label: str, seed: int, actor: acme.Actor,
                        variable_source: acme.VariableSource,
                        counter: counting.Counter, columns: Sequence[str],
                        extra_observers: Sequence[Any] = (),
                        **evaluation) -> acme.EnvironmentLoop:
    """The loop of one actor (or, given `pause_seconds`, of the evaluator),
    logging `columns` plus those of the environment's observers."""
    environment, loop_observers = self.make_environment(seed, variable_source)
    loop_observers = list(loop_observers) + list(extra_observers)
    columns = tuple(columns) + tuple(
        c for o in loop_observers for c in getattr(o, 'columns', ()))
    loop_class = (loops.PausingEvaluationLoop if evaluation
                  else acme.EnvironmentLoop)
    return loop_class(
        # Counts reach the counter at every episode's end (not a second
        # later), so its checkpoints hold every logged episode.
        environment, actor,
        counting.Counter(counter, label.split('_')[0], time_delta=0.),
        logs.make_logger(self._run_dir, label, columns,
                         self._log_every_seconds),
        label=label, observers=loop_observers, **evaluation)

  def actor(self, replay: reverb.Client, variable_source: acme.VariableSource,
            counter: counting.Counter, actor_id: int) -> acme.EnvironmentLoop:
    seed = self._seed * 1000 + actor_id
    tf.random.set_seed(seed)
    epsilon = r2d2_config.epsilon_ladder(
        self._config.num_actors, self._config.epsilon_base,
        self._config.epsilon_alpha)[actor_id]
    adder = adders.SequenceAdder(
        client=replay, period=self._config.replay_period,
        sequence_length=self._config.sequence_length)
    actor = actors.make_actor(self._make_network(), epsilon, adder,
                              variable_source,
                              self._config.variable_update_period)
    return self._environment_loop(f'actor_{actor_id}', seed, actor,
                                  variable_source, counter, logs.ACTOR_COLUMNS)

  def evaluator(self, variable_source: acme.VariableSource,
                counter: counting.Counter) -> loops.PausingEvaluationLoop:
    seed = self._seed * 1000 + 999
    tf.random.set_seed(seed)
    actor = actors.make_actor(self._make_network(),
                              self._config.evaluation_epsilon, None,
                              variable_source,
                              self._config.variable_update_period)
    return self._environment_loop(
        'evaluator', seed, actor, variable_source, counter,
        logs.EVALUATOR_COLUMNS,
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
