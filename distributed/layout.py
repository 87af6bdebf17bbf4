"""One Launchpad program layout for every agent of this project.

Nodes: replay (Reverb, from the builder's tables), counter, step-budget
coordinator, learner (also the variable source), cachers (serve the
learner's variables to actors; actor i uses cacher i mod num_cachers), N actors, each stepping `envs_per_actor`
environments with one batched network call per step, an evaluator, and, for
agents that learn from demonstrations, a demonstrator that writes a fixed
number of steps of them (not counted in the actor-step budget); the
`ProgramConfig` says how many and how they checkpoint.
Learner and counter checkpoint into the run directory and restore from it,
so launching the same run directory again resumes an interrupted run. Every
node is managed (`distributed.nodes`): a failure is recorded and stops the
program.

The builder (`agents.builders.AgentBuilder`) says what each piece is; this
module only says where it runs and how the pieces find each other.
"""

from typing import Any, Callable, Optional, Sequence

import acme
from acme.utils import counting
from acme.utils import loggers
import dm_env
import launchpad as lp
import reverb
import tensorflow as tf

from behavior_transfer.acting import batched_loop
from behavior_transfer.agents import builders
from behavior_transfer.distributed import checkpointing
from behavior_transfer.distributed import coordinator
from behavior_transfer.distributed import logs
from behavior_transfer.distributed import nodes
from behavior_transfer.distributed import program_config as program_config_lib
from behavior_transfer.distributed import variable_cache
from behavior_transfer.environments import measures

EnvironmentFactory = Callable[[int], dm_env.Environment]  # seed -> env
# The demonstrator's environments are numbered from here (seeds apart from
# the actors' and the evaluator's), and the final evaluation's is this one.
_DEMONSTRATOR_SEEDS = 90_000
_FINAL_EVALUATION_SEED = 80_000


class Demonstrator:
  """The demonstrator node's worker: `steps` environment steps of
  demonstrations, then it idles until the program ends."""

  def __init__(self, loop: batched_loop.BatchedEnvironmentLoop, steps: int):
    self._loop = loop
    self._steps = steps

  def run(self) -> None:
    self._loop.run(num_steps=self._steps)


class DistributedLayout:
  """Builds the node constructors and the program of one agent."""

  def __init__(self,
               builder: builders.AgentBuilder,
               program_config: program_config_lib.ProgramConfig,
               environment_factory: EnvironmentFactory,
               run_dir: str,
               max_actor_steps: int,
               seed: int = 0,
               stop_program: Optional[Callable[[], Any]] = None,
               log_every_seconds: float = 10.):
    """Checks the builder against the environment now, before any node
    runs. `stop_program` ends the program (default: `lp.stop`)."""
    self.builder = builder
    self.program_config = program_config
    self._environment_factory = environment_factory
    self._run_dir = run_dir
    self._max_actor_steps = max_actor_steps
    self._seed = seed
    self._stop_program = stop_program
    self._log_every_seconds = log_every_seconds
    environment = environment_factory(seed)
    self.environment_spec = builder.make_environment_spec(environment)
    environment.close()
    builder.validate(self.environment_spec)

  def environment_seed(self, index: int) -> int:
    """Seed of acting environment `index` (actor-major over all actors'
    environments); the evaluator's is the last index."""
    return self._seed * 100_000 + index

  def evaluator_seed(self) -> int:
    return self.environment_seed(99_999)

  def actor_environment_indices(self, actor_id: int) -> range:
    """Which acting environments (and exploration rates) actor `actor_id`
    steps."""
    count = self.program_config.envs_per_actor
    return range(actor_id * count, (actor_id + 1) * count)

  # Node constructors.

  def replay(self):
    return self.builder.make_replay_tables(self.environment_spec)

  def counter(self):
    return checkpointing.CheckpointedCounter(
        self._run_dir, self.program_config.checkpoint_seconds)

  def coordinator(self, counter: counting.Counter):
    return coordinator.StepBudget(
        counter, self._max_actor_steps, self._stop_program or lp.stop,
        self._run_dir, self.program_config.stall_seconds)

  def learner(self, replay: reverb.Client, counter: counting.Counter):
    learner = self.builder.make_learner(
        self.environment_spec, self.builder.make_dataset_iterator(replay),
        replay, counter,
        logs.make_logger(self._run_dir, 'learner',
                         self.builder.learner_columns,
                         self._log_every_seconds))
    checkpointer = checkpointing.make_checkpointer(
        {checkpointing.LEARNER: learner.state}, self._run_dir,
        checkpointing.LEARNER, self.program_config.checkpoint_seconds)
    return checkpointing.CheckpointedLearner(
        learner, checkpointer, self.builder.after_checkpoint(
            learner, self.environment_spec, self._run_dir),
        self.program_config.checkpoint_seconds)

  def _acting_loop(self, label: str, seeds: Sequence[int],
                   variable_source: acme.VariableSource,
                   counter: counting.Counter,
                   replay: Optional[reverb.Client] = None,
                   environment_indices: Optional[Sequence[int]] = None,
                   pause_seconds: float = 0.,
                   logger: Optional[loggers.Logger] = None
                   ) -> batched_loop.BatchedEnvironmentLoop:
    """The loop of an actor (or, without replay, of the evaluator); its rows
    add the columns of the environments' observers: the return under every
    task of the domain and the exploration measures. They go to `logger`,
    by default the node's CSV and TensorBoard logs in the run directory."""
    tf.random.set_seed(seeds[0])
    builder = self.builder
    # Actors may act in a cheaper precision; the evaluator scores in float32.
    network = (builder.make_acting_network(self.environment_spec)
               if replay is not None
               else builder.make_network(self.environment_spec))
    actor = builder.make_actor(
        self.environment_spec, network,
        seeds, builder.make_adders(replay, len(seeds)) if replay else None,
        variable_source, environment_indices,
        self.program_config.num_environments)
    raw = [self._environment_factory(seed) for seed in seeds]
    environments = builder.make_environment_batch(raw, self.environment_spec,
                                                  variable_source)
    # Pre-training's evaluator also logs how its exploration compares with a
    # random policy's, as pre-training goes.
    baseline = (measures.random_baseline(self._environment_factory(seeds[0]))
                if replay is None and builder.compares_exploration_with_random
                else None)
    loop_observers = [measures.observers_for(env, baseline) for env in raw]
    columns = (builder.evaluator_columns if replay is None
               else builder.actor_columns)
    columns = tuple(columns) + tuple(
        c for o in loop_observers[0] for c in getattr(o, 'columns', ()))
    return batched_loop.BatchedEnvironmentLoop(
        # Counts reach the counter when episodes end (not a second later),
        # so its checkpoints hold every logged episode.
        environments, actor,
        counting.Counter(counter, label.split('_')[0], time_delta=0.),
        logger or logs.make_logger(self._run_dir, label, columns,
                                   self._log_every_seconds),
        loop_observers, label=label, pause_seconds=pause_seconds)

  def actor(self, replay: reverb.Client, variable_source: acme.VariableSource,
            counter: counting.Counter,
            actor_id: int) -> batched_loop.BatchedEnvironmentLoop:
    indices = self.actor_environment_indices(actor_id)
    return self._acting_loop(
        f'actor_{actor_id}', [self.environment_seed(i) for i in indices],
        variable_source, counter, replay, indices)

  def demonstrator(self, replay: reverb.Client, counter: counting.Counter
                   ) -> 'Demonstrator':
    count = self.program_config.envs_per_actor
    seeds = [self.environment_seed(_DEMONSTRATOR_SEEDS + i)
             for i in range(count)]
    tf.random.set_seed(seeds[0])
    actor = self.builder.make_demonstrator(self.environment_spec, replay,
                                           count)
    raw = [self._environment_factory(seed) for seed in seeds]
    loop = batched_loop.BatchedEnvironmentLoop(
        self.builder.make_environment_batch(raw, self.environment_spec),
        actor, counting.Counter(counter, 'demonstrator', time_delta=0.),
        logs.make_logger(self._run_dir, 'demonstrator',
                         builders.ACTOR_COLUMNS, self._log_every_seconds),
        label='demonstrator')
    return Demonstrator(loop, self.builder.demonstration_steps())

  def evaluator(self, variable_source: acme.VariableSource,
                counter: counting.Counter
                ) -> batched_loop.BatchedEnvironmentLoop:
    return self._acting_loop(
        'evaluator', [self.evaluator_seed()], variable_source, counter,
        pause_seconds=self.program_config.evaluation_pause_seconds)

  def final_evaluator(self, variable_source: acme.VariableSource,
                      logger: loggers.Logger
                      ) -> batched_loop.BatchedEnvironmentLoop:
    """The evaluator's policy in one environment of its own seed, without
    pauses, logging its episodes to `logger` (not the run's logs): for
    measuring a finished run's final policy over many episodes
    (`experiments.evaluation`)."""
    return self._acting_loop(
        'final_evaluation', [self.environment_seed(_FINAL_EVALUATION_SEED)],
        variable_source, counting.Counter(), logger=logger)

  # The program.

  def _node(self, constructor, name: str, *args) -> lp.CourierNode:
    managed = nodes.ManagedNode(constructor, name, self._run_dir,
                                self._stop_program)
    return lp.CourierNode(managed, *args)

  def build(self, name: str = 'agent') -> lp.Program:
    program = lp.Program(name=name)
    with program.group('replay'):
      replay = program.add_node(checkpointing.ReplayNode(
          self.replay, self._run_dir,
          self.program_config.checkpoint_seconds
          if self.program_config.checkpoint_replay else None,
          self._stop_program))
    with program.group('counter'):
      counter = program.add_node(self._node(self.counter, 'counter'))
    with program.group('coordinator'):
      program.add_node(self._node(self.coordinator, 'coordinator', counter))
    with program.group('learner'):
      learner = program.add_node(
          self._node(self.learner, 'learner', replay, counter))
    config = self.program_config
    with program.group('cacher'):
      cachers = [program.add_node(self._node(
          variable_cache.VariableCache,
          'cacher' if config.num_cachers == 1 else f'cacher_{index}',
          learner, config.cacher_refresh_seconds))
                 for index in range(config.num_cachers)]
    if self.builder.demonstration_steps():
      with program.group('demonstrator'):
        program.add_node(self._node(self.demonstrator, 'demonstrator',
                                    replay, counter))
    with program.group('evaluator'):
      program.add_node(
          self._node(self.evaluator, 'evaluator', cachers[0], counter))
    with program.group('actor'):
      for actor_id in range(self.program_config.num_actors):
        program.add_node(
            self._node(self.actor, f'actor_{actor_id}', replay,
                       cachers[actor_id % len(cachers)],
                       counter, actor_id))
    return program
