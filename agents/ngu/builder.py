"""NGU pre-training's pieces: R2D2 on NGU's intrinsic reward, reward-free.

Actors and the evaluator see their environments through
`IntrinsicRewardBatch`, whose embedding and RND networks follow the learner's
'intrinsic' variables, under the observation-action-reward view the Q-network
needs; the learner is `NGULearner`. The environments themselves are the
dynamics with their own reward underneath (never optimised): the programs
log it per task as the zero-shot score. After every checkpoint, and when the
run stops, the learner exports the greedy policy to <run_dir>/policy, the
self-contained form the BT actor loads.
"""

import functools
import os
import shutil

from acme import specs
from acme.tf import variable_utils

from behavior_transfer.acting import environment_batch
from behavior_transfer.agents import builders
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import learning as ngu_learning
from behavior_transfer.agents.ngu import networks as ngu_networks
from behavior_transfer.agents.ngu import reward_wrapper
from behavior_transfer.agents.r2d2 import builder as r2d2_builder
from behavior_transfer.environments import oar
from behavior_transfer.policies import pretrained

POLICY_DIR = 'policy'


class NGUBuilder(r2d2_builder.R2D2Builder):
  """Reward-free pre-training with NGU's (or RND's, or a constant) reward."""

  learner_columns = builders.LEARNER_COLUMNS + ('inverse_dynamics_loss',
                                                'rnd_loss')
  # alpha over each episode: near 1, RND's life-long novelty does nothing.
  actor_columns = builders.ACTOR_COLUMNS + ('mean_lifelong_modulation',)
  evaluator_columns = builders.EVALUATOR_COLUMNS + ('mean_lifelong_modulation',)
  compares_exploration_with_random = True

  def __init__(self, config: ngu_config.NGUConfig,
               network_factory: r2d2_builder.NetworkFactory, domain: str):
    """`domain` ('atari' or 'minigrid') picks the intrinsic models' torso.
    The program's environments must be the raw dynamics (no
    observation-action-reward wrapper): this builder adds it."""
    super().__init__(config, network_factory)
    self._domain = domain

  @property
  def r2d2_config(self):
    return self._config.r2d2

  def make_environment_spec(self, environment):
    return specs.make_environment_spec(
        oar.ObservationActionRewardWrapper(environment))

  def _make_models(self, environment_spec: specs.EnvironmentSpec
                   ) -> ngu_networks.IntrinsicModels:
    config = self._config
    models = ngu_networks.IntrinsicModels(
        self._domain, environment_spec.actions.num_values,
        config.embedding_size, config.rnd_output_size,
        config.rnd_observation_normalization, config.r2d2.network_size)
    models.create_variables(environment_spec.observations.observation)
    return models

  def make_environment_batch(self, environments, environment_spec,
                             variable_source=None):
    models = self._make_models(environment_spec)
    client = None
    if variable_source is not None:
      client = variable_utils.VariableClient(
          variable_source, {'intrinsic': models.variables},
          update_period=self.r2d2_config.variable_update_period)
      client.update_and_wait()
    # The Q-network sees the dynamics' own reward as its previous reward;
    # only what it learns from is intrinsic (reward_wrapper.py says why).
    return reward_wrapper.IntrinsicRewardBatch(
        environment_batch.ObservationActionRewardBatch(
            environment_batch.EnvironmentBatch(environments)), models,
        self._config, environment_spec.observations.observation, client)

  def _learner(self, environment_spec, network, target_network, dataset,
               replay_client, counter, logger) -> ngu_learning.NGULearner:
    return ngu_learning.NGULearner(
        network, target_network, self._config,
        self._make_models(environment_spec), dataset,
        r2d2_builder.priority_client(replay_client), counter, logger)

  def after_checkpoint(self, learner, environment_spec, run_dir):
    return functools.partial(export_atomically, learner.network,
                             environment_spec,
                             os.path.join(run_dir, POLICY_DIR))


def export_atomically(network, environment_spec, path: str) -> None:
  """Exports the greedy policy to `path`, replacing an earlier export only
  once the new one is complete."""
  staging = path + '.partial'
  shutil.rmtree(staging, ignore_errors=True)
  pretrained.export_policy(network, environment_spec, staging)
  shutil.rmtree(path, ignore_errors=True)
  os.rename(staging, path)
