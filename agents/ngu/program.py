"""The reward-free pre-training program: distributed R2D2 on NGU's reward.

The nodes are R2D2's. Actors and the evaluator see the environment through
`IntrinsicRewardBatch`, whose embedding and RND networks follow the learner's
'intrinsic' variables; the learner is `NGULearner`. Every episode log row also
holds the return under each task of the domain (the zero-shot score of the
policy; the evaluator's is the greedy pi_p's) and the exploration measure.
After every checkpoint, and when the run stops, the learner exports the greedy
policy to <run_dir>/policy, the self-contained form the BT actor loads.
"""

import functools
import os
import shutil
from typing import Any, Callable

from acme import wrappers
from acme.tf import variable_utils

from behavior_transfer import environments
from behavior_transfer.agents.bt import pretrained
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import learning as ngu_learning
from behavior_transfer.agents.ngu import networks as ngu_networks
from behavior_transfer.agents.ngu import reward_wrapper
from behavior_transfer.agents.r2d2 import program as r2d2_program
from behavior_transfer.environments import measures
from behavior_transfer.utils import environment_batch
from behavior_transfer.utils import logs

POLICY_DIR = 'policy'


def _with_oar(raw_environment_factory, seed: int):
  return wrappers.ObservationActionRewardWrapper(raw_environment_factory(seed))


class DistributedNGU(r2d2_program.DistributedR2D2):
  """Builds the pre-training program."""

  learner_columns = logs.LEARNER_COLUMNS + ('inverse_dynamics_loss', 'rnd_loss')

  def __init__(self, environment: str, network_factory: Callable[..., Any],
               config: ngu_config.NGUConfig, run_dir: str,
               max_actor_steps: int, seed: int = 0, stop_program=None,
               log_every_seconds: float = 10.):
    """`environment` names the dynamics; its own reward is never optimised,
    only reported per task."""
    self._ngu_config = config
    self._domain, _ = environments.parse_environment_name(environment)
    # The dynamics with the game reward underneath, for the task measures.
    self._raw_environment_factory = functools.partial(
        environments.make_environment, environment, 'game', oar_wrapper=False)
    super().__init__(
        functools.partial(_with_oar, self._raw_environment_factory),
        network_factory, config.r2d2, run_dir, max_actor_steps, seed,
        stop_program, log_every_seconds)

  def _make_models(self) -> ngu_networks.IntrinsicModels:
    config = self._ngu_config
    models = ngu_networks.IntrinsicModels(
        self._domain, self.environment_spec.actions.num_values,
        config.embedding_size, config.rnd_output_size,
        config.rnd_observation_normalization)
    models.create_variables(self.environment_spec.observations.observation)
    return models

  def make_environments(self, seeds, variable_source=None):
    raw = [self._raw_environment_factory(seed=seed) for seed in seeds]
    models = self._make_models()
    client = None
    if variable_source is not None:
      client = variable_utils.VariableClient(
          variable_source, {'intrinsic': models.variables},
          update_period=self._config.variable_update_period)
      client.update_and_wait()
    environments = environment_batch.ObservationActionRewardBatch(
        reward_wrapper.IntrinsicRewardBatch(
            environment_batch.EnvironmentBatch(raw), models, self._ngu_config,
            self.environment_spec.observations.observation, client))
    return environments, [measures.observers_for(env) for env in raw]

  def make_learner(self, network, target_network, iterator, replay_client,
                   counter, logger) -> ngu_learning.NGULearner:
    return ngu_learning.NGULearner(
        network, target_network, self._ngu_config, self._make_models(),
        iterator, replay_client, counter, logger)

  def after_learner_save(self, network) -> Callable[[], Any]:
    return functools.partial(export_atomically, network, self.environment_spec,
                             os.path.join(self._run_dir, POLICY_DIR))


def export_atomically(network, environment_spec, path: str) -> None:
  """Exports the greedy policy to `path`, replacing an earlier export only
  once the new one is complete."""
  staging = path + '.partial'
  shutil.rmtree(staging, ignore_errors=True)
  pretrained.export_policy(network, environment_spec, staging)
  shutil.rmtree(path, ignore_errors=True)
  os.rename(staging, path)
