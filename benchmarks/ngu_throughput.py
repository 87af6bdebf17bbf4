r"""NGU pre-training throughput next to plain R2D2's, side by side in one run.

  python -m benchmarks.ngu_throughput [--environment=minigrid:...] [--seconds=10]

(--seconds is the flag of benchmarks.throughput, whose measurements this reuses.)

Measures one actor's environment steps/s with the R2D2 actor on the task's
own reward and with NGU's online intrinsic reward (embedding, RND and the
episodic memory run on the actor), and learner updates/s of the R2D2 learner
and of the NGU learner (R2D2 plus inverse-dynamics and RND training) at the
small preset's batch, on a fixed synthetic batch.
"""

import functools

from absl import app
from absl import flags
from acme import specs
from acme import wrappers
from acme.tf import utils as tf2_utils

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import learning as ngu_learning
from behavior_transfer.agents.ngu import networks as ngu_networks
from behavior_transfer.agents.ngu import reward_wrapper
from behavior_transfer.agents.r2d2 import actors
from behavior_transfer.agents.r2d2 import config as r2d2_config
from benchmarks import throughput

FLAGS = flags.FLAGS
flags.DEFINE_string('environment', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0',
                    'MiniGrid dynamics to measure on.')
flags.DEFINE_integer('learner_updates', 30, 'Timed updates per learner.')


def actor_steps_per_second(environment, spec) -> float:
  network = networks.make_q_network('minigrid', spec)
  tf2_utils.create_variables(network, [spec.observations])
  actor = actors.make_actor(network, epsilon=0.01)
  first = environment.reset()
  actor.observe_first(first)
  actor.select_action(first.observation)
  return throughput.environment_steps_per_second(
      environment, FLAGS.seconds, lambda ts: actor.select_action(ts.observation))


def make_ngu_learner(config, online, target, r2d2, iterator, spec):
  del r2d2  # The NGU config carries it.
  models = ngu_networks.IntrinsicModels('minigrid', spec.actions.num_values)
  models.create_variables(spec.observations.observation)
  return ngu_learning.NGULearner(online, target, config, models,
                                 iterator=iterator)


def main(_):
  config = ngu_config.NGUConfig(r2d2=r2d2_config.small_domain_config())
  plain = environments.make_environment(FLAGS.environment)
  spec = specs.make_environment_spec(plain)
  models = ngu_networks.IntrinsicModels('minigrid', spec.actions.num_values)
  models.create_variables(spec.observations.observation)
  intrinsic = wrappers.ObservationActionRewardWrapper(
      reward_wrapper.IntrinsicRewardWrapper(
          environments.make_environment(FLAGS.environment, 'none',
                                        oar_wrapper=False), models, config))
  print(f'Measuring on {FLAGS.environment}...', flush=True)
  r2d2_actor = actor_steps_per_second(plain, spec)
  ngu_actor = actor_steps_per_second(intrinsic, spec)
  r2d2_learner = throughput.learner_updates_per_second(
      'minigrid', FLAGS.environment, config.r2d2, FLAGS.learner_updates)
  ngu_learner = throughput.learner_updates_per_second(
      'minigrid', FLAGS.environment, config.r2d2, FLAGS.learner_updates,
      functools.partial(make_ngu_learner, config, spec=spec))
  print('\n| measurement | R2D2 | NGU pre-training | NGU / R2D2 |\n'
        '|---|---:|---:|---:|')
  print(f'| one actor: env steps/s | {r2d2_actor:,.1f} | {ngu_actor:,.1f} | '
        f'{ngu_actor / r2d2_actor:.2f} |')
  print(f'| learner updates/s (batch {config.r2d2.batch_size} x '
        f'{config.r2d2.sequence_length}) | {r2d2_learner:,.1f} | '
        f'{ngu_learner:,.1f} | {ngu_learner / r2d2_learner:.2f} |')


if __name__ == '__main__':
  app.run(main)
