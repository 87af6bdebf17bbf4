"""The paper's modified Atari tasks and the RAM detectors under them, checked
on recorded play (tests/data/atari: action sequences that reach the events,
replayed deterministically from a reset without no-ops)."""

import json
import os
from typing import Dict, List

import numpy as np
import pytest

from behavior_transfer import environments
from behavior_transfer.environments import atari
from behavior_transfer.environments import atari_events
from behavior_transfer.environments import measures
from behavior_transfer.environments import tasks

DATA = os.path.join(os.path.dirname(__file__), 'data', 'atari')
HERO_RECORDINGS = ('hero_level1_2', 'hero_pitfalls', 'hero_level1_no_dynamite',
                   'hero_wall_and_death', 'hero_dynamite_kill')


def _load(name: str) -> Dict:
  with open(os.path.join(DATA, f'{name}.json')) as f:
    return json.load(f)


def _replay(recording: Dict, task_names: List[str], detector):
  """Steps the recording; per step: the game's reward, each task's reward,
  and the detector's events of each frame (with the frame's reward)."""
  environment = atari.AtariEnvironment(recording['game'], seed=0, max_noops=0)
  environment.reset()
  task_fns = {name: tasks.get_task('atari', name) for name in task_names}
  steps = []
  for action in recording['actions']:
    environment.step(action)
    state = environment.simulator
    steps.append(dict(
        game=environment.last_game_reward,
        tasks={name: fn(environment.last_game_reward, state)
               for name, fn in task_fns.items()},
        # Asked twice about one step (the measures do), a task answers the same.
        again={name: fn(environment.last_game_reward, state)
               for name, fn in task_fns.items()},
        frames=[(detector(before, after), reward)
                for before, after, reward in state.frames()]))
  return steps


def _event_steps(steps, name: str) -> List[int]:
  return [t for t, step in enumerate(steps)
          for events, _ in step['frames'] for _ in range(getattr(events, name))]


@pytest.mark.parametrize('name', HERO_RECORDINGS)
def test_hero_events_explain_every_frames_score(name):
  recording = _load(name)
  steps = _replay(recording, ['rescue_miners_easy', 'rescue_miners_hard'],
                  atari_events.hero_events)
  for t, step in enumerate(steps):
    for events, reward in step['frames']:
      assert events.points(reward) == reward, (t, events, reward)
  assert sum(step['game'] for step in steps) == recording['score']
  expected = recording['event_steps']
  assert _event_steps(steps, 'miners') == expected['miners']
  assert _event_steps(steps, 'walls') == expected['walls']
  assert _event_steps(steps, 'walls_by_laser') == expected['walls_laser']
  assert _event_steps(steps, 'creatures') == expected['creatures']
  for step in steps:
    assert step['tasks'] == step['again']


def test_hero_tasks_pay_miners_and_charge_dynamited_walls_only():
  recording = _load('hero_level1_2')
  steps = _replay(recording, ['rescue_miners_easy', 'rescue_miners_hard'],
                  atari_events.hero_events)
  miners, walls = (recording['event_steps'][k] for k in ('miners', 'walls'))
  easy = [s['tasks']['rescue_miners_easy'] for s in steps]
  hard = [s['tasks']['rescue_miners_hard'] for s in steps]
  assert [t for t, r in enumerate(easy) if r] == miners
  assert all(easy[t] == 1000. for t in miners)
  assert {t: r for t, r in enumerate(hard) if r} == {
      **{t: -300. for t in walls}, **{t: 1000. for t in miners}}
  # The rescue's agent step also pays the first count-down ticks: its score
  # change alone is not 1000, so the score could not tell the rescue apart.
  assert steps[miners[0]]['game'] > 1000.
  # Creatures (+50) and the count-down bonus (thousands) are gone.
  assert sum(s['game'] for s in steps) == 7285.
  assert (sum(easy), sum(hard)) == (2000., 2000. - 3 * 300.)


def test_a_laser_burnt_wall_costs_nothing_even_in_the_hard_task():
  steps = _replay(_load('hero_pitfalls'), ['rescue_miners_hard'],
                  atari_events.hero_events)
  assert _event_steps(steps, 'walls_by_laser') == [165]
  assert all(s['tasks']['rescue_miners_hard'] == 0. for s in steps)


def test_montezuma_rooms_are_read_from_ram_on_recorded_play():
  recording = _load('montezuma_leave_first_room')
  environment = environments.make_environment(
      'atari:montezuma_revenge', seed=0, max_noops=0)
  observer = measures.TaskReturnsAndExploration(
      measures.unwrap(environment), 'atari')
  timestep = environment.reset()
  observer.observe_first(environment, timestep)
  rooms = []
  for action in recording['actions']:
    timestep = environment.step(np.int32(action))
    observer.observe(environment, timestep, action)
    rooms.append(int(measures.unwrap(environment).simulator.getRAM()[3]))
  metrics = observer.get_metrics()
  assert metrics['distinct_rooms'] == 2.
  assert metrics['return_game'] == recording['score'] == 400.
  assert rooms.index(2) == recording['room_change_step']
  assert set(rooms[:recording['room_change_step']]) == {1}


@pytest.mark.parametrize('task,game', [('eat_ghosts_easy', 'ms_pacman'),
                                       ('rescue_miners_hard', 'hero')])
def test_modified_tasks_apply_to_their_game_only(task, game):
  environments.validate(f'atari:{game}', task)
  with pytest.raises(ValueError, match=r'Tasks for this level: game, none'):
    environments.validate('atari:pong', task)
  environment = environments.make_environment('atari:pong', task)
  environment.reset()
  with pytest.raises(ValueError, match=f'defined on atari:{game}'):
    environment.step(np.int32(0))


def test_modified_tasks_are_listed_for_their_games():
  environment = environments.make_environment('atari:hero', oar_wrapper=False)
  assert tasks.applicable_task_names(
      'atari', measures.unwrap(environment).simulator) == [
          'game', 'none', 'rescue_miners_easy', 'rescue_miners_hard']


PACMAN_RECORDINGS = ('ms_pacman_ghosts_200steps',
                     'ms_pacman_fruit_cherry_380steps',
                     'ms_pacman_level2_strawberry_1240steps')


@pytest.mark.parametrize('name', PACMAN_RECORDINGS)
def test_ms_pacman_events_explain_every_frames_score(name):
  recording = _load(name)
  steps = _replay(recording, ['eat_ghosts_easy', 'eat_ghosts_hard'],
                  atari_events.ms_pacman_events)
  for t, step in enumerate(steps):
    for events, reward in step['frames']:
      assert events.points() == reward, (t, events, reward)
    assert step['tasks'] == step['again']
  assert sum(step['game'] for step in steps) == recording['score']
  expected = recording['event_steps']
  for name in ('ghosts', 'power_pills', 'fruits'):
    assert _event_steps(steps, name) == expected.get(name, []), name
  assert len(_event_steps(steps, 'dots')) == recording['dots']
  ghost_points = [events.ghost_points for step in steps
                  for events, _ in step['frames'] if events.ghosts]
  assert ghost_points == recording['ghost_points']

  # Only blue ghosts pay, at their game points; pac-dots cost 10 when hard.
  easy = sum(s['tasks']['eat_ghosts_easy'] for s in steps)
  hard = sum(s['tasks']['eat_ghosts_hard'] for s in steps)
  assert easy == sum(recording['ghost_points'])
  assert hard == easy - 10 * recording['dots']


def test_a_strawberry_scores_like_a_ghost_but_pays_nothing():
  recording = _load('ms_pacman_level2_strawberry_1240steps')
  steps = _replay(recording, ['eat_ghosts_easy'], atari_events.ms_pacman_events)
  strawberry, ghost = 1162, 1233
  assert recording['event_steps']['fruits'][-1] == strawberry
  fruit_frames = [e for e, _ in steps[strawberry]['frames'] if e.fruits]
  assert fruit_frames[0].fruit_points == 200
  ghost_frames = [e for e, _ in steps[ghost]['frames'] if e.ghosts]
  assert ghost_frames[0].ghost_points == 200
  assert steps[strawberry]['tasks']['eat_ghosts_easy'] == 0.
  assert steps[ghost]['tasks']['eat_ghosts_easy'] == 200.
