"""What an agent is, apart from how its pieces are laid out over processes.

An `AgentBuilder` makes an agent's pieces, Acme-style: replay tables, the
dataset the learner samples, adders, actors, the learner, and the view of the
environment its networks see. `distributed.layout.DistributedLayout` decides
where each piece runs (one Launchpad program for every agent); the same
pieces can be assembled by hand in any Acme project (README, "Use BT in your
own Acme agent").

Actors are batched (`acting.batched_loop.BatchedActor`): one actor steps K
environments with one network call per step. Acting environment i of all
actors' N has its own exploration rate from the agent's ladder;
`environment_indices` says which of the N an actor owns (None: the
evaluator).
"""

import abc
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

import acme
from acme import adders as acme_adders
from acme import specs
from acme.utils import counting
from acme.utils import loggers
import dm_env
import reverb
import sonnet as snt

from behavior_transfer.acting import batched_loop
from behavior_transfer.acting import environment_batch

# Columns every agent's nodes log (agents add their own).
ACTOR_COLUMNS = ('actor_steps', 'actor_episodes', 'episode_length',
                 'episode_return', 'steps_per_second')
EVALUATOR_COLUMNS = ('actor_steps', 'learner_steps', 'evaluator_episodes',
                     'episode_length', 'episode_return')
LEARNER_COLUMNS = ('learner_steps', 'actor_steps', 'learner_steps_per_second',
                   'loss', 'mean_abs_td_error', 'mean_q')


class AgentBuilder(abc.ABC):
  """Makes the pieces of one agent."""

  # Column names of the learner's, actors' and evaluator's CSV logs.
  learner_columns: Tuple[str, ...] = LEARNER_COLUMNS
  actor_columns: Tuple[str, ...] = ACTOR_COLUMNS
  evaluator_columns: Tuple[str, ...] = EVALUATOR_COLUMNS
  # Whether the evaluator logs its exploration in units of a random policy's
  # (pre-training does, where a measure exists).
  compares_exploration_with_random: bool = False

  def make_environment_spec(self, environment: dm_env.Environment
                            ) -> specs.EnvironmentSpec:
    """What the agent's networks see of an environment of the program."""
    return specs.make_environment_spec(environment)

  def validate(self, environment_spec: specs.EnvironmentSpec) -> None:
    """Refuses, when the program is built, what would fail inside a node."""
    del environment_spec

  @abc.abstractmethod
  def make_network(self, environment_spec: specs.EnvironmentSpec
                   ) -> snt.RNNCore:
    """The acting network, its variables created."""

  def make_acting_network(self, environment_spec: specs.EnvironmentSpec
                          ) -> snt.RNNCore:
    """The actors' copy of the acting network (the evaluator's is
    `make_network`'s); they may compute in a cheaper precision."""
    return self.make_network(environment_spec)

  @abc.abstractmethod
  def make_replay_tables(self, environment_spec: specs.EnvironmentSpec
                         ) -> List[reverb.Table]:
    """The tables actors insert into and the learner samples."""

  @abc.abstractmethod
  def make_dataset_iterator(self, replay_client: reverb.Client
                            ) -> Iterator[reverb.ReplaySample]:
    """The learner's batches."""

  @abc.abstractmethod
  def make_adder(self, replay_client: reverb.Client) -> acme_adders.Adder:
    """How one acting environment writes its experience."""

  def make_adders(self, replay_client: reverb.Client,
                  count: int) -> List[acme_adders.Adder]:
    """How the `count` environments of one actor write their experience:
    one `make_adder` each, unless the builder shares a writer among them."""
    return [self.make_adder(replay_client) for _ in range(count)]

  @abc.abstractmethod
  def make_actor(self,
                 environment_spec: specs.EnvironmentSpec,
                 network: snt.RNNCore,
                 seeds: Sequence[int],
                 adders: Optional[Sequence[acme_adders.Adder]] = None,
                 variable_source: Optional[acme.VariableSource] = None,
                 environment_indices: Optional[Sequence[int]] = None,
                 num_environments: Optional[int] = None
                 ) -> batched_loop.BatchedActor:
    """The actor of one environment per seed, exploring as environments
    `environment_indices` of all actors' `num_environments` (the rungs of
    the exploration ladder); None indices make the evaluator's."""

  @abc.abstractmethod
  def make_learner(self,
                   environment_spec: specs.EnvironmentSpec,
                   dataset: Iterator[reverb.ReplaySample],
                   replay_client: reverb.Client,
                   counter: counting.Counter,
                   logger: loggers.Logger) -> acme.Learner:
    """The learner; it also serves the actors' variables."""

  def make_environment_batch(
      self, environments: Sequence[dm_env.Environment],
      environment_spec: specs.EnvironmentSpec,
      variable_source: Optional[acme.VariableSource] = None
  ) -> environment_batch.EnvironmentBatch:
    """An actor's environments as the agent steps them (agents that change
    the reward, such as NGU, wrap them here)."""
    del environment_spec, variable_source
    return environment_batch.EnvironmentBatch(environments)

  def demonstration_steps(self) -> int:
    """Environment steps of demonstrations the program's demonstrator node
    writes (0: the agent learns from none and the program has no such
    node)."""
    return 0

  def make_demonstrator(self, environment_spec: specs.EnvironmentSpec,
                        replay_client: reverb.Client, count: int
                        ) -> batched_loop.BatchedActor:
    """The demonstrator's actor over `count` environments, writing to
    replay (for agents whose `demonstration_steps` is positive)."""
    raise NotImplementedError(f'{type(self).__name__} has no demonstrator.')

  def after_checkpoint(self, learner: acme.Learner,
                       environment_spec: specs.EnvironmentSpec,
                       run_dir: str) -> Optional[Callable[[], Any]]:
    """What the learner node does after each checkpoint; nothing here."""
    del learner, environment_spec, run_dir
    return None
