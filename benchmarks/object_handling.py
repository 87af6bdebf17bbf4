r"""What a pi_p does with the objects it can carry, next to a random policy.

  python -m benchmarks.object_handling [--policies=ngu_doorkey,...]
      [--episodes=20] [--json=docs/object_handling.json]

A reward-free pi_p on a key-and-door level can keep its episodic novelty paid
by moving the key about instead of taking it to the door: each new place the
key lies in makes new egocentric views (docs/transfer_suite.md, the zoo). Per
policy, over `--episodes` episodes of its level, pi_p greedy and a uniformly
random policy on the same layouts: pick-ups and drops per episode, the distinct
cells objects were dropped on, steps spent carrying one, steps carrying one
while facing a door, and doors opened.

MiniGrid pi_p only, named as `benchmarks.minigrid_policies` says.
"""

from typing import Dict

from absl import app
from absl import flags
import dm_env
import numpy as np

from behavior_transfer import environments
from behavior_transfer.environments import measures
from behavior_transfer.environments import minigrid_events
from behavior_transfer.policies import pretrained
from benchmarks import figures
from benchmarks import minigrid_policies

FLAGS = flags.FLAGS


def define_flags() -> None:
  """This script's flags, defined when it runs (not on import, so that tests
  can import it next to `benchmarks.action_gaps`, whose flags share names)."""
  flags.DEFINE_list(
      'policies', 'ngu_doorkey,ngu_unlockpickup_looper',
      'Bundled names, or exported:<dir>@<level> for a run\'s exported pi_p.')
  flags.DEFINE_integer('episodes', 20, 'Episodes per policy, and as many of '
                       'a random policy.')
  flags.DEFINE_integer('seed', 0, 'Seeds the layouts and the random policy.')
  flags.DEFINE_string('json', 'docs/object_handling.json',
                      'Where to write the figures.')


COLUMNS = ('pick_ups', 'drops', 'distinct_drop_cells', 'steps_carrying',
           'steps_carrying_facing_door', 'doors_opened')


def measure(policy: pretrained.PretrainedPolicy,
            environment: dm_env.Environment, episodes: int) -> Dict[str, float]:
  """Mean per-episode object handling of `policy` over the next `episodes`
  episodes of a MiniGrid `environment`, each to the level's end."""
  base = measures.unwrap(environment)
  rows = []
  for _ in range(episodes):
    timestep, state = environment.reset(), policy.initial_state()
    row = dict.fromkeys(COLUMNS, 0)
    dropped_on, opened = set(), set()
    while not timestep.last():
      action, state = policy.step(timestep.observation, state)
      carried = base.simulator.carrying
      timestep = environment.step(np.int32(action))
      simulator = base.simulator
      front = simulator.grid.get(*simulator.front_pos)
      row['pick_ups'] += carried is None and simulator.carrying is not None
      if carried is not None and simulator.carrying is None:
        row['drops'] += 1
        dropped_on.add(tuple(int(x) for x in simulator.front_pos))
      if simulator.carrying is not None:
        row['steps_carrying'] += 1
        row['steps_carrying_facing_door'] += (
            front is not None and front.type == 'door')
      door = minigrid_events.last(simulator).door_opened
      if door is not None:
        opened.add(id(door))
    row['distinct_drop_cells'] = len(dropped_on)
    row['doors_opened'] = len(opened)
    rows.append(row)
  return {name: float(np.mean([row[name] for row in rows]))
          for name in COLUMNS}


def main(_):
  rows = {}
  print('| pi_p | level | acting | ' + ' | '.join(COLUMNS) + ' |\n|---|---|---|'
        + '---:|' * len(COLUMNS))
  for name in FLAGS.policies:
    policy_dir, level = minigrid_policies.resolve(name)
    policy = pretrained.ExportedPolicy(policy_dir)
    rows[name] = {'level': level}
    for acting, actor in (('pi_p', policy), ('random', pretrained.RandomPolicy(
        policy.num_actions, FLAGS.seed))):
      row = rows[name][acting] = measure(
          actor, environments.make_environment(level, 'game', seed=FLAGS.seed),
          FLAGS.episodes)
      label = name.split('@')[0].replace('exported:', '')
      print(f'| {label} | {level.split(":")[-1]} | {acting} | ' +
            ' | '.join(f'{row[c]:.2f}' for c in COLUMNS) + ' |', flush=True)
  figures.write(FLAGS.json, 'benchmarks.object_handling',
                {'episodes': FLAGS.episodes, 'seed': FLAGS.seed,
                 'policies': rows})


if __name__ == '__main__':
  define_flags()
  app.run(main)
