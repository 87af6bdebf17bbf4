r"""Throughput on this machine, measured side by side in one run.

  python -m benchmarks.throughput [--seconds=10] [--atari_learner_updates=2]

Prints raw ALE frames/s, preprocessed Atari environment steps/s, one actor's
environment steps/s with the Atari Q-network, and learner updates/s for the
Atari and the small network at their configured batch and sequence sizes
(compute only: a fixed synthetic batch, no replay traffic).
"""

import itertools
import time

from absl import app
from absl import flags
from acme import specs
from acme.adders.reverb import base as adder_base
from acme.tf import utils as tf2_utils
import ale_py
from ale_py import roms
import numpy as np
import reverb
import tensorflow as tf
import tree

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents.r2d2 import actor as r2d2_actor
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.agents.r2d2 import learning

FLAGS = flags.FLAGS
flags.DEFINE_float('seconds', 10., 'Wall time per acting measurement.')
flags.DEFINE_string('game', 'montezuma_revenge', 'ALE game to measure.')
flags.DEFINE_integer('atari_learner_updates', 2,
                     'Timed learner updates with the Atari network (each takes '
                     'tens of seconds on CPU at the paper batch size).')
flags.DEFINE_integer('small_learner_updates', 30,
                     'Timed learner updates with the small network.')


def raw_ale_frames_per_second(game: str, seconds: float) -> float:
  ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
  ale = ale_py.ALEInterface()
  ale.loadROM(roms.get_rom_path(game))
  actions = ale.getLegalActionSet()
  rng = np.random.RandomState(0)
  frames, start = 0, time.time()
  while time.time() - start < seconds:
    for _ in range(1000):
      ale.act(actions[rng.randint(len(actions))])
      if ale.game_over():
        ale.reset_game()
    frames += 1000
  return frames / (time.time() - start)


def environment_steps_per_second(env, seconds: float, select_action) -> float:
  timestep = env.reset()
  steps, start = 0, time.time()
  while time.time() - start < seconds:
    for _ in range(100):
      timestep = env.step(select_action(timestep))
      if timestep.last():
        timestep = env.reset()
    steps += 100
  return steps / (time.time() - start)


def actor_steps_per_second(game: str, seconds: float) -> float:
  env = environments.make_environment(f'atari:{game}')
  spec = specs.make_environment_spec(env)
  network = networks.make_q_network('atari', spec)
  tf2_utils.create_variables(network, [spec.observations])
  actor = r2d2_actor.make_actor(network, epsilon=0.01)
  first = env.reset()
  actor.observe_first(first)
  actor.select_action(first.observation)  # Trace the policy once.
  return environment_steps_per_second(
      env, seconds, lambda ts: actor.select_action(ts.observation))


def learner_updates_per_second(
    domain: str, environment: str, config: r2d2_config.R2D2Config,
    updates: int, make_learner=learning.R2D2Learner) -> float:
  """Updates/s of `make_learner(online, target, config, iterator=...)` on a
  fixed synthetic batch of the configured size."""
  env = environments.make_environment(environment)
  spec = specs.make_environment_spec(env)
  online = networks.make_q_network(domain, spec)
  target = networks.make_q_network(domain, spec)
  for net in (online, target):
    tf2_utils.create_variables(net, [spec.observations])
  extras = {'core_state': tf2_utils.squeeze_batch_dim(online.initial_state(1))}
  signature = adder_base.Step(*spec, start_of_episode=specs.Array((), bool),
                              extras=extras)
  shape = (config.batch_size, config.sequence_length)
  data = tree.map_structure(
      lambda s: tf.zeros(shape + tuple(s.shape), s.dtype), signature)
  info = reverb.SampleInfo(
      key=tf.constant(np.arange(config.batch_size, dtype=np.uint64)),
      probability=tf.fill([config.batch_size], tf.constant(0.01, tf.float64)),
      table_size=tf.fill([config.batch_size], tf.constant(100, tf.int64)),
      priority=tf.ones([config.batch_size], tf.float64))
  sample = reverb.ReplaySample(info=info, data=data)
  learner = make_learner(online, target, config,
                         iterator=itertools.repeat(sample))
  learner.step()  # Trace once.
  start = time.time()
  for _ in range(updates):
    learner.step()
  return updates / (time.time() - start)


def main(_):
  atari = r2d2_config.R2D2Config()
  small = r2d2_config.preset('minigrid')
  print(f'Measuring on {FLAGS.game}; {FLAGS.seconds:.0f} s per acting '
        'measurement...', flush=True)
  raw = raw_ale_frames_per_second(FLAGS.game, FLAGS.seconds)
  env = environments.make_environment(f'atari:{FLAGS.game}')
  rng = np.random.RandomState(0)
  env_steps = environment_steps_per_second(
      env, FLAGS.seconds, lambda ts: rng.randint(18))
  actor = actor_steps_per_second(FLAGS.game, FLAGS.seconds)
  atari_updates = learner_updates_per_second(
      'atari', f'atari:{FLAGS.game}', atari, FLAGS.atari_learner_updates)
  small_updates = learner_updates_per_second(
      'minigrid', 'minigrid:MiniGrid-Empty-5x5-v0', small,
      FLAGS.small_learner_updates)

  rows = [
      ('raw ALE frames/s (random actions)', raw, ''),
      ('Atari env steps/s (4 frames each, preprocessing, random actions)',
       env_steps, f'{4 * env_steps / raw:.2f} of raw ALE frame rate'),
      ('one Atari actor: env steps/s with the Q-network', actor,
       f'{actor / env_steps:.2f} of env-only step rate'),
      (f'learner updates/s, Atari net, batch {atari.batch_size} x '
       f'{atari.sequence_length} steps', atari_updates,
       f'{1 / atari_updates:.1f} s per update'),
      (f'learner updates/s, small net, batch {small.batch_size} x '
       f'{small.sequence_length} steps', small_updates,
       f'{1 / small_updates * 1000:.0f} ms per update'),
  ]
  print('\n| measurement | value | ratio |\n|---|---:|---|')
  for name, value, ratio in rows:
    print(f'| {name} | {value:,.2f} | {ratio} |')


if __name__ == '__main__':
  app.run(main)
