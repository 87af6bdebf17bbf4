r"""Cost of BT exploration on the actor's hot path, side by side in one run.

  python -m benchmarks.bt_actor_cost [--game=montezuma_revenge] [--rounds=5]

Times the R2D2 epsilon-greedy actor (Acme's recurrent actor over the Atari
Q-network) against the BT actor (the Atari Q-network with |A|+1 outputs plus a
frozen pi_p of the same size, both evaluated in one TF call), on the same
recorded Atari observations. Blocks of steps alternate between the actors so
that machine noise hits both alike; the reported ratio is the median over
rounds. A second measurement includes the environment step, which is what an
actor's throughput sees.
"""

import statistics
import time
from typing import Callable, List

from absl import app
from absl import flags
from acme import specs
from acme.tf import utils as tf2_utils
import numpy as np
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.bt import pretrained
from behavior_transfer.agents.r2d2 import actors

FLAGS = flags.FLAGS
flags.DEFINE_string('game', 'montezuma_revenge', 'ALE game to act in.')
flags.DEFINE_integer('rounds', 5, 'Alternating rounds per actor.')
flags.DEFINE_integer('steps_per_round', 300, 'Actor steps per round.')
flags.DEFINE_float('epsilon', 0.01, 'Epsilon of both actors.')
flags.DEFINE_integer('tf_threads', 0,
                     'TF intra- and inter-op threads; 0 keeps TF\'s default '
                     '(all cores), 1 is an actor pinned to one core.')


def make_actors(spec: specs.EnvironmentSpec):
  """The epsilon-greedy R2D2 actor and the BT actor, with Atari networks."""
  num_actions = spec.actions.num_values
  q_network = networks.make_atari_network(num_actions)
  tf2_utils.create_variables(q_network, [spec.observations])
  epsilon_greedy = actors.make_actor(q_network, epsilon=FLAGS.epsilon)

  bt_network = networks.make_atari_network(num_actions, num_actions + 1)
  pi_network = networks.make_atari_network(num_actions)
  for network in (bt_network, pi_network):
    tf2_utils.create_variables(network, [spec.observations])
  behavior_transfer = bt_actor.BehaviorTransferActor(
      bt_network, num_actions, bt_config.Exploration.BT, FLAGS.epsilon,
      levy_epsilon=0.01,
      pretrained=pretrained.GreedyNetworkPolicy(pi_network, num_actions))
  return {'epsilon-greedy R2D2 actor': epsilon_greedy,
          'BT actor (Q + pi_p)': behavior_transfer}


def time_steps(step: Callable[[int], None], num_steps: int, offset: int) -> float:
  start = time.perf_counter()
  for i in range(num_steps):
    step(offset + i)
  return (time.perf_counter() - start) / num_steps


def measure(actor_steps: dict, rounds: int, steps: int) -> dict:
  """Seconds per step of each actor, per round, alternating actors."""
  times = {name: [] for name in actor_steps}
  for round_index in range(rounds):
    for name, step in actor_steps.items():
      times[name].append(time_steps(step, steps, round_index * steps))
  return times


def main(_):
  if FLAGS.tf_threads:
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.tf_threads)
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.tf_threads)
  env = environments.make_environment(f'atari:{FLAGS.game}')
  spec = specs.make_environment_spec(env)
  named_actors = make_actors(spec)
  # Record observations once, so both actors see the same inputs.
  rng = np.random.RandomState(0)
  num_observations = FLAGS.rounds * FLAGS.steps_per_round
  timestep, observations = env.reset(), []
  for _ in range(num_observations):
    observations.append(timestep.observation)
    timestep = env.step(np.int32(rng.randint(spec.actions.num_values)))
    if timestep.last():
      timestep = env.reset()
  first = env.reset()
  for actor in named_actors.values():
    actor.observe_first(first)
    actor.select_action(first.observation)  # Trace once.

  def acting_only(actor):
    return lambda i: actor.select_action(observations[i])

  def acting_in_environment(actor):
    def step(_):
      step.timestep = env.step(actor.select_action(step.timestep.observation))
      if step.timestep.last():
        step.timestep = env.reset()
    step.timestep = env.reset()
    return step

  print(f'{FLAGS.game}: {FLAGS.rounds} alternating rounds of '
        f'{FLAGS.steps_per_round} steps per actor, TF threads: '
        f'{FLAGS.tf_threads or "default"}...', flush=True)
  results = []
  for label, wrap in (('select_action only', acting_only),
                      ('select_action + environment step', acting_in_environment)):
    times = measure({name: wrap(actor) for name, actor in named_actors.items()},
                    FLAGS.rounds, FLAGS.steps_per_round)
    results.append((label, times))

  print('\n| measurement | epsilon-greedy ms/step | BT ms/step | BT / epsilon-greedy '
        '(median of rounds) |\n|---|---:|---:|---:|')
  for label, times in results:
    baseline, bt = (times[name] for name in named_actors)
    ratios: List[float] = [b / e for b, e in zip(bt, baseline)]
    print(f'| {label} | {1e3 * statistics.median(baseline):.2f} | '
          f'{1e3 * statistics.median(bt):.2f} | {statistics.median(ratios):.2f} |')


if __name__ == '__main__':
  app.run(main)
