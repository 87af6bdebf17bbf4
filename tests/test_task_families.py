"""The paper's task families on MiniGrid: each sparse easy task and its hard
twin pay and penalise on exactly the right steps of scripted play."""

import numpy as np
import pytest

from behavior_transfer import environments
from behavior_transfer.environments import measures
from behavior_transfer.environments import minigrid_events
from behavior_transfer.environments import rooms
from behavior_transfer.environments import tasks
from behavior_transfer.environments import minigrid_play as play

P = tasks.PASSAGE_PENALTY


def _env(level, task, seed=0):
  env = environments.make_environment(f'minigrid:{level}', task, seed=seed,
                                      oar_wrapper=False)
  env.reset()
  return env, measures.unwrap(env).simulator


def _twins(level, easy, hard, seed=0):
  """The easy and the hard task on the same level and seed, stepped alike."""
  (easy_env, simulator), (hard_env, _) = _env(level, easy, seed), _env(
      level, hard, seed)

  def step(actions):
    return (play.play(easy_env, actions), play.play(hard_env, actions))
  return simulator, step


def test_door_key_pays_the_goal_and_penalises_each_key_pickup_and_door():
  simulator, step = _twins('MiniGrid-DoorKey-5x5-v0', 'success',
                           'success_penalised')
  script = []
  script.append(step(play.face(simulator, play.find(simulator, 'key'))))
  script.append(step([play.PICKUP, play.DROP, play.PICKUP]))
  script.append(step(play.face(simulator, play.find(simulator, 'door'))))
  script.append(step([play.TOGGLE, play.TOGGLE, play.TOGGLE]))
  easy, hard = map(lambda i: [r for s in script for r in s[i]], (0, 1))
  walk = len(script[0][0])
  assert easy == [0.] * len(easy)
  # Every pick-up and every opening costs; dropping and closing do not.
  expected = [0.] * walk + [-P, 0., -P] + [0.] * len(script[2][0]) + [
      -P, 0., -P]
  np.testing.assert_allclose(hard, expected)
  to_goal = step(play.reach(simulator, play.find(simulator, 'goal')))
  assert to_goal[0] == [0.] * (len(to_goal[0]) - 1) + [1.]
  assert to_goal[1] == to_goal[0]
  # The whole way pays more than staying put (0).
  assert sum(hard) + sum(to_goal[1]) > 0


def test_once_twin_charges_each_key_and_door_the_first_time_only():
  simulator, step = _twins('MiniGrid-DoorKey-5x5-v0', 'success_penalised',
                           'success_penalised_once')
  script = [step(play.face(simulator, play.find(simulator, 'key'))),
            step([play.PICKUP, play.DROP, play.PICKUP]),
            step(play.face(simulator, play.find(simulator, 'door'))),
            step([play.TOGGLE, play.TOGGLE, play.TOGGLE]),
            step(play.reach(simulator, play.find(simulator, 'goal')))]
  every, once = map(lambda i: [r for s in script for r in s[i]], (0, 1))
  charged = lambda rewards: [i for i, r in enumerate(rewards) if r < 0]
  walk, face_door = len(script[0][0]), len(script[2][0])
  key_steps = [walk, walk + 2]
  door_steps = [walk + 3 + face_door, walk + 3 + face_door + 2]
  assert charged(every) == key_steps + door_steps
  # The repeated pick-up and the re-opening are free; the goal pays alike.
  assert charged(once) == [key_steps[0], door_steps[0]]
  assert every[-1] == once[-1] == 1.
  assert sum(once) == pytest.approx(1 - 2 * P)
  # A new episode charges the same key and door again.
  env, simulator = _env('MiniGrid-DoorKey-5x5-v0', 'success_penalised_once')
  for _ in range(2):
    rewards = play.play(env, play.face(simulator, play.find(simulator, 'key'))
                        + [play.PICKUP])
    assert rewards[-1] == pytest.approx(-P)
    env.reset()


def test_fetching_the_object_is_not_penalised_but_the_way_there_is():
  # KeyCorridorS3R1, seed 0: key | closed door | agent | locked door | ball.
  simulator, step = _twins('MiniGrid-KeyCorridorS3R1-v0', 'success',
                           'success_penalised')
  door = play.find(simulator, 'door', is_locked=False)
  locked = play.find(simulator, 'door', is_locked=True)
  ball = play.find(simulator, 'ball')
  rewards = [step(play.face(simulator, door))]
  rewards.append(step([play.TOGGLE]))
  rewards.append(step(play.face(simulator, play.find(simulator, 'key'))))
  rewards.append(step([play.PICKUP]))
  rewards.append(step(play.face(simulator, locked)))
  rewards.append(step([play.TOGGLE]))
  rewards.append(step(play.reach(simulator, locked) + [play.LEFT, play.LEFT,
                                                     play.DROP]))
  rewards.append(step(play.face(simulator, ball)))
  rewards.append(step([play.PICKUP]))
  easy, hard = ([r for part in rewards for r in part[i]] for i in (0, 1))
  assert easy == [0.] * (len(easy) - 1) + [1.]
  penalised = [i for i, r in enumerate(hard) if r < 0]
  assert len(penalised) == 3  # The door, the key, the locked door.
  assert hard[-1] == 1.  # The fetched ball itself costs nothing.
  assert sum(hard) == pytest.approx(1 - 3 * P)


def test_opening_a_box_is_a_passage():
  # ObstructedMaze-1Dlhb: the key hides in a box next to the start.
  env, simulator = _env('MiniGrid-ObstructedMaze-1Dlhb-v0',
                        'success_penalised')
  box = play.find(simulator, 'box')
  play.play(env, play.face(simulator, box))
  assert play.play(env, [play.TOGGLE]) == [pytest.approx(-P)]
  assert minigrid_events.last(simulator).box_opened
  assert simulator.grid.get(*box).type == 'key'  # The box's contents.


def test_reach_third_room_penalised_costs_each_door_on_the_way():
  level = 'MiniGrid-MultiRoom-N4-S5-v0'
  simulator, step = _twins(level, 'reach_third_room',
                           'reach_third_room_penalised', seed=1)
  easy, hard = [], []
  for _ in range(2):  # Two doors to the third room.
    door = play.nearest(simulator, play.face, 'door', is_open=False)
    for part, rewards in zip((easy, hard), step(play.face(simulator, door)
                                                 + [play.TOGGLE])):
      part += rewards
    for part, rewards in zip((easy, hard), step(
        play.reach(simulator, door) + [play.FORWARD])):
      part += rewards
  assert rooms.room_index(simulator) == 2
  assert easy.count(1.) == 1 and sum(easy) == 1.
  assert sorted(hard)[:3] == pytest.approx([-P, -P, 0.])
  assert sum(hard) == pytest.approx(1 - 2 * P)


def test_through_door_pays_the_first_step_past_the_door_once_an_episode():
  level = 'MiniGrid-DoorKey-5x5-v0'
  simulator, step = _twins(level, 'through_door', 'through_door_penalised')
  door = play.find(simulator, 'door')
  script = [step(play.face(simulator, play.find(simulator, 'key'))
                 + [play.PICKUP]),
            step(play.face(simulator, door) + [play.TOGGLE]),
            step(play.reach(simulator, door)),  # Into the doorway: not yet.
            step([play.FORWARD]),  # Past it.
            step([play.LEFT, play.LEFT, play.FORWARD, play.FORWARD,
                  play.LEFT, play.LEFT, play.FORWARD, play.FORWARD])]
  easy, hard = ([r for part in script for r in part[i]] for i in (0, 1))
  past = sum(len(part[0]) for part in script[:3])
  # Paid once, on the first step past the door; walking back through it and
  # out again pays nothing more.
  assert [i for i, r in enumerate(easy) if r] == [past] and easy[past] == 1.
  assert tuple(simulator.agent_pos) not in rooms.start_area(
      simulator, minigrid_events.start_position(simulator))
  charged = [i for i, r in enumerate(hard) if r < 0]
  assert charged == [len(script[0][0]) - 1,
                     len(script[0][0]) + len(script[1][0]) - 1]
  assert sum(hard) == pytest.approx(1 - 2 * P)
  # The next episode pays again.
  env, simulator = _env(level, 'through_door')
  for _ in range(2):
    play.play(env, play.face(simulator, play.find(simulator, 'key'))
              + [play.PICKUP])
    door = play.find(simulator, 'door')
    play.play(env, play.face(simulator, door) + [play.TOGGLE])
    rewards = play.play(env, play.reach(simulator, door) + [play.FORWARD])
    assert rewards[-1] == 1. and sum(rewards) == 1.
    env.reset()


def test_through_door_is_multiroom_s_second_room():
  env, simulator = _env('MiniGrid-MultiRoom-N4-S5-v0', 'through_door', seed=1)
  door = play.nearest(simulator, play.face, 'door', is_open=False)
  rewards = play.play(env, play.face(simulator, door) + [play.TOGGLE])
  rewards += play.play(env, play.reach(simulator, door) + [play.FORWARD])
  assert rooms.room_index(simulator) == 1
  assert rewards == [0.] * (len(rewards) - 1) + [1.]


def test_hard_twins_apply_only_where_their_events_exist():
  def applicable(level):
    env, simulator = _env(level, 'game')
    del env
    return set(tasks.applicable_task_names('minigrid', simulator))
  assert {'success', 'success_penalised'} <= applicable(
      'MiniGrid-DoorKey-5x5-v0')
  empty = applicable('MiniGrid-Empty-5x5-v0')
  assert 'success' in empty and 'success_penalised' not in empty
  assert 'reach_third_room_penalised' in applicable(
      'MiniGrid-MultiRoom-N4-S5-v0')
  assert 'reach_third_room_penalised' not in applicable(
      'MiniGrid-DoorKey-5x5-v0')
  assert {'through_door', 'through_door_penalised'} <= applicable(
      'MiniGrid-UnlockPickup-v0')
  assert not {'through_door', 'through_door_penalised'} & applicable(
      'MiniGrid-FourRooms-v0')
  with pytest.raises(ValueError, match='does not apply.*success'):
    environments.validate('minigrid:MiniGrid-Empty-5x5-v0',
                          'success_penalised')


def test_episode_measures_count_distinct_doors_and_objects():
  env, simulator = _env('MiniGrid-DoorKey-5x5-v0', 'game')
  observer = measures.TaskReturnsAndExploration(measures.unwrap(env),
                                                'minigrid')
  assert {'doors_opened', 'objects_picked_up'} <= set(observer.columns)
  observer.observe_first(env, None)
  actions = (play.face(simulator, play.find(simulator, 'key')) +
             [play.PICKUP, play.DROP, play.PICKUP])
  for action in actions:
    env.step(np.int32(action))
    observer.observe(env, None, action)
  door = play.find(simulator, 'door')
  for action in play.face(simulator, door) + [play.TOGGLE] * 3:
    env.step(np.int32(action))
    observer.observe(env, None, action)
  metrics = observer.get_metrics()
  # One key picked up twice and one door opened twice: one of each.
  assert metrics['objects_picked_up'] == 1
  assert metrics['doors_opened'] == 1
  assert metrics['return_success_penalised'] == pytest.approx(-4 * P)
