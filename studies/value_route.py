"""A finished run's Q-values along a scripted route through a MiniGrid level.

When a greedy policy settles on a local optimum (on doorkey's hard task it
stands still and never picks the key up), the question is where the value of
the reward stops on its way back: does the network know that the goal pays
once the door is open, or once the key is held, or not at all? This walks the
final network of a transfer run along the shortest route through the level's
events (for DoorKey: face the key, pick it up, face the door, open it, reach
the goal), feeding it what an actor would feed it, and records at every step
Q of the route's action against the best primitive action, in the task's
return units (the learner's value rescaling undone), and Q of each a+.

A route is a comma-separated list of legs: `face:<object>` and
`reach:<object>` walk there by the shortest path (`environments.minigrid_play`),
and an action name (`pickup`, `toggle`, ...) is one step of that action.
"""

import dataclasses
import json
import os
from typing import Any, Dict, List, Sequence

import numpy as np
import tensorflow as tf

from behavior_transfer.acting import batched_loop
from behavior_transfer.agents.r2d2 import learning
from behavior_transfer.environments import measures
from behavior_transfer.environments import minigrid_play as play
from behavior_transfer.environments import names
from behavior_transfer.experiments import evaluation
from behavior_transfer.experiments import run_experiment

ACTIONS = {'left': play.LEFT, 'right': play.RIGHT, 'forward': play.FORWARD,
           'pickup': play.PICKUP, 'drop': play.DROP, 'toggle': play.TOGGLE}
WALKS = {'face': play.face, 'reach': play.reach}
# DoorKey's way to the goal, the default route.
DOORKEY_ROUTE = 'face:key,pickup,face:door,toggle,reach:goal'


@dataclasses.dataclass(frozen=True)
class Leg:
  """One leg of a route: a walk to an object, or one action."""
  kind: str  # 'face', 'reach' or 'act'.
  target: str  # The object's type, or the action's name.

  @property
  def name(self) -> str:
    return self.target if self.kind == 'act' else f'{self.kind}:{self.target}'

  def actions(self, simulator: Any) -> List[int]:
    """The leg's actions from where the agent stands: a walk to the nearest
    such object it can get to (to face a door: the nearest closed one, the
    next to open), or the one action."""
    if self.kind == 'act':
      return [ACTIONS[self.target]]
    closed = {'is_open': False} if (self.kind == 'face' and
                                    self.target == 'door') else {}
    walk = WALKS[self.kind]
    return walk(simulator,
                play.nearest(simulator, walk, self.target, **closed))


def parse_route(route: str) -> List[Leg]:
  """`route`'s legs; an unknown walk or action names the valid ones."""
  legs = []
  for text in route.split(','):
    kind, _, target = text.strip().partition(':')
    if target:
      legs.append(Leg(names.check_name('walk', kind, WALKS), target))
    else:
      legs.append(Leg('act', names.check_name('action', kind, ACTIONS)))
  if not legs:
    raise ValueError('A route needs at least one leg.')
  return legs


def inverse_value_rescaling(y: tf.Tensor) -> np.ndarray:
  """h^-1 of the learner's value rescaling h, the inverse Acme's
  `transformed_n_step_loss` applies to target values: Q in return units."""
  return learning.inverse_value_rescaling(tf.cast(y, tf.float64)).numpy()


def walk(run_dir: str, route: Sequence[Leg], seeds: Sequence[int]
         ) -> List[Dict[str, Any]]:
  """One row per step of the route on each seed's layout: the leg, the action
  taken, the task's reward for it, Q of that action, the best primitive
  action and its Q, and Q of each a+ (return units)."""
  spec = evaluation.run_spec(run_dir)
  if names.parse(spec.environment).domain != 'minigrid':
    raise ValueError(f'{run_dir} ran on {spec.environment}: routes are '
                     'walked on MiniGrid levels only.')
  layout, network = evaluation.final_network(run_dir)
  make_environment = run_experiment.environment_factory(spec)
  num_actions = layout.environment_spec.actions.num_values
  rows = []
  for seed in seeds:
    environment = make_environment(seed)
    simulator = measures.unwrap(environment).simulator
    timestep = environment.reset()
    state = network.initial_state(1)
    step = 0
    for leg_index, leg in enumerate(route):
      for action in leg.actions(simulator):
        if timestep.last():
          raise ValueError(f'Seed {seed}: the episode ended before leg '
                           f'{leg.name!r}.')
        q_values, state = network(tf.nest.map_structure(
            tf.convert_to_tensor, batched_loop.stack([timestep.observation])),
                                  state)
        q_values = inverse_value_rescaling(q_values[0])
        primitive = q_values[:num_actions]
        timestep = environment.step(np.int32(action))
        rows.append({
            'seed': seed, 'step': step, 'leg_index': leg_index,
            'leg': leg.name, 'action': action,
            'reward': float(timestep.reward), 'q_action': float(primitive[action]),
            'best_action': int(np.argmax(primitive)),
            'q_best': float(np.max(primitive)),
            'q_extra': [float(q) for q in q_values[num_actions:]]})
        step += 1
  return rows


def summarise(rows: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
  """Per leg of the route, over seeds: the mean Q of the route's action and
  of the best primitive action on the leg's first step, the share of the
  leg's steps on which the route's action is the greedy one, and the mean
  reward the leg paid."""
  legs: Dict[int, List[Dict[str, Any]]] = {}
  for row in rows:
    legs.setdefault(row['leg_index'], []).append(row)
  summary = []
  for index in sorted(legs):
    leg_rows = legs[index]
    by_seed: Dict[int, List[Dict[str, Any]]] = {}
    for row in leg_rows:
      by_seed.setdefault(row['seed'], []).append(row)
    first = [seed_rows[0] for seed_rows in by_seed.values()]
    extra = [row['q_extra'] for row in first if row['q_extra']]
    summary.append({
        'leg': leg_rows[0]['leg'],
        'steps': len(leg_rows),
        'q_action_first': float(np.mean([r['q_action'] for r in first])),
        'q_best_first': float(np.mean([r['q_best'] for r in first])),
        'q_extra_first': np.mean(extra, axis=0).tolist() if extra else [],
        'route_is_greedy': float(np.mean(
            [r['action'] == r['best_action'] for r in leg_rows])),
        'reward': float(np.mean([sum(r['reward'] for r in seed_rows)
                                 for seed_rows in by_seed.values()])),
    })
  return summary


def table(summary: Sequence[Dict[str, Any]]) -> str:
  """The summary as a Markdown table."""
  lines = ['| leg | steps | Q(route action), first step | best primitive Q | '
           'Q(a+) | route action greedy | reward |',
           '|---|---:|---:|---:|---:|---:|---:|']
  for row in summary:
    extra = ', '.join(f'{q:.3f}' for q in row['q_extra_first']) or '-'
    lines.append(
        f'| {row["leg"]} | {row["steps"]} | {row["q_action_first"]:.3f} | '
        f'{row["q_best_first"]:.3f} | {extra} | '
        f'{row["route_is_greedy"]:.2f} | {row["reward"]:.2f} |')
  return '\n'.join(lines)


def report(run_dirs: Sequence[str], route: str, seeds: Sequence[int],
           json_path: str) -> str:
  """Each run's table along `route` on `seeds`' layouts; writes the
  summaries and every step's row to `json_path`."""
  legs = parse_route(route)
  results, texts = {}, []
  for run_dir in run_dirs:
    rows = walk(run_dir, legs, seeds)
    summary = summarise(rows)
    results[run_dir] = {'summary': summary, 'steps': rows}
    texts.append(f'{run_dir} (route {route}, seeds {list(seeds)}; Q in '
                 f'return units):\n{table(summary)}')
  os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
  with open(json_path, 'w') as f:
    json.dump({'route': route, 'seeds': list(seeds), 'runs': results}, f,
              indent=1)
  return '\n\n'.join(texts)
