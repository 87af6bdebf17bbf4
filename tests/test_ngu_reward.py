"""NGU's intrinsic reward on hand-built memories against an independent computation."""

import math

import numpy as np
import pytest

from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import rewards


def expected_episodic(memory, query, all_knn_distances, k, eps=1e-4, xi=0.008,
                      c=1e-3, s_m=8.0):
  """The NGU reward of docs/agents.md's "Reward-free pre-training (NGU)", written out
  step by step with plain Python."""
  distances = sorted(sum((a - b)**2 for a, b in zip(m, query)) for m in memory)[:k]
  all_knn_distances = all_knn_distances + distances
  d_m2 = sum(all_knn_distances) / len(all_knn_distances)
  total = 0.
  for d2 in distances:
    total += eps / (max(d2 / d_m2 - xi, 0.) + eps)
  s = math.sqrt(total) + c
  return (0. if s > s_m else 1. / s), all_knn_distances


def single(batched):
  """A one-environment reward function as a function of one value."""
  return lambda value: float(batched(np.asarray(value)[None])[0])


def test_episodic_reward_matches_independent_computation_and_resets():
  config = ngu_config.NGUConfig(num_neighbours=3)
  memories = rewards.EpisodicNovelty(config)
  novelty = single(memories)
  rng = np.random.RandomState(0)
  points = [rng.randn(4) for _ in range(8)]
  points.append(points[2] + 1e-3)  # Nearly a revisit: low novelty.
  history, memory = [], []
  assert novelty(points[0]) == 0.  # Nothing to compare with yet.
  memory.append(points[0])
  observed = []
  for point in points[1:]:
    expected, history = expected_episodic(memory, point, history, k=3)
    got = novelty(point)
    assert got == pytest.approx(expected, rel=1e-9)
    observed.append(got)
    memory.append(point)
  assert observed[-1] < min(observed[:-1])  # The revisit is the least novel.

  # A new episode empties the memory, but d_m^2 keeps its running mean.
  memories.reset()
  assert novelty(points[2]) == 0.
  expected, history = expected_episodic([points[2]], points[2] + 1e-3, history, k=3)
  assert novelty(points[2] + 1e-3) == pytest.approx(expected, rel=1e-9)


def test_cluster_distance_and_maximum_similarity():
  # Neighbours closer than the cluster distance count as the same state (K=1).
  config = ngu_config.NGUConfig(num_neighbours=4, maximum_similarity=1.9)
  novelty = single(rewards.EpisodicNovelty(config))
  novelty(np.zeros(2))
  far = novelty(np.array([10., 0.]))  # d^2 / d_m^2 = 1: K ~ 1e-4.
  assert far == pytest.approx(1 / (math.sqrt(1e-4 / (1 - 0.008 + 1e-4)) + 1e-3))
  # Four identical neighbours at distance 0 give sqrt(4) + c > 1.9: reward 0.
  for _ in range(3):
    novelty(np.zeros(2))
  assert novelty(np.zeros(2)) == 0.
  # With the paper's s_m = 8 the same situation is rewarded 1 / (2 + c).
  paper = single(rewards.EpisodicNovelty(ngu_config.NGUConfig(num_neighbours=4)))
  for point in [np.zeros(2), np.array([10., 0.])] + [np.zeros(2)] * 4:
    last = paper(point)
  assert last == pytest.approx(1 / (2 + 1e-3), rel=1e-6)


def test_lifelong_modulator_normalises_and_caps():
  modulator = single(rewards.LifelongModulator(max_modulation=5.))
  errors = [1., 3., 2., 2., 50., 0.5]
  seen, alphas = [], []
  for error in errors:
    seen.append(error)
    mean, std = np.mean(seen), np.std(seen)
    alpha = 1 + (error - mean) / std if std > 0 else 1.
    alphas.append(min(max(alpha, 1.), 5.))
    assert modulator(error) == pytest.approx(alphas[-1])
  assert alphas[0] == 1. and alphas[-1] == 1.  # No statistics yet; below mean.
  assert 1. < alphas[4] <= 5.  # The outlier is capped at L.
  assert single(rewards.LifelongModulator(max_modulation=1.2))(0.) == 1.


def test_running_statistics_follow_the_latest_values_with_a_horizon():
  values = np.random.default_rng(0).normal(5., 2., 300)
  exact = rewards.RunningMeanStd(horizon=1000)  # Under the horizon: exact.
  for value in values:
    exact.update(np.array([0]), np.array([value]))
  assert exact.mean[0] == pytest.approx(values.mean())
  assert exact.std(np.array([0]))[0] == pytest.approx(values.std())
  # Past it, each value weighs 1/horizon: the weights of an exponential
  # moving average, written out here.
  recent = rewards.RunningMeanStd(horizon=50)
  for value in values:
    recent.update(np.array([0]), np.array([value]))
  weights = [max(1. / (index + 1), 1. / 50) for index in range(len(values))]
  kept = np.array([w * np.prod([1. - u for u in weights[index + 1:]])
                   for index, w in enumerate(weights)])
  assert kept.sum() == pytest.approx(1.)
  assert recent.mean[0] == pytest.approx(np.dot(kept, values))
  with pytest.raises(ValueError, match='horizon'):
    rewards.RunningMeanStd(horizon=-1)


def test_a_horizon_lets_alpha_modulate_after_rnd_errors_fall():
  """RND's errors start orders of magnitude above where its trained predictor
  leaves them. Statistics over every error keep the early ones' spread, so a
  rarely seen state's error (4x the usual) gets no modulation; statistics over
  the latest errors give it alpha near the cap."""
  rng = np.random.default_rng(1)
  early = rng.uniform(5., 15., 500)  # The untrained predictor.
  late = rng.normal(0.07, 0.01, 20_000)  # Trained: the familiar states.
  every = single(rewards.LifelongModulator(5.))
  latest = single(rewards.LifelongModulator(5., horizon=1000))
  for error in np.concatenate([early, late]):
    every(error), latest(error)
  assert every(0.28) == 1.
  assert latest(0.28) == 5.


def test_intrinsic_reward_kinds():
  constant = rewards.IntrinsicRewardFunction(
      ngu_config.NGUConfig(intrinsic_reward='constant'), num_environments=2)
  np.testing.assert_array_equal(constant(None, None), [1., 1.])
  ngu = rewards.IntrinsicRewardFunction(ngu_config.NGUConfig(num_neighbours=2))
  assert ngu(np.zeros((1, 3)), [1.]) == 0.  # First step of the episode.
  assert ngu(np.ones((1, 3)), [1.]) > 0.
  ngu.reset()
  assert ngu(np.ones((1, 3)), [1.]) == 0.
  # alpha is NGU's alone: the other kinds report none.
  _, alpha = constant.with_modulation(None, None)
  assert np.isnan(alpha).all() and alpha.shape == (2,)
  rnd = rewards.IntrinsicRewardFunction(
      ngu_config.NGUConfig(intrinsic_reward='rnd'))
  assert np.isnan(rnd.with_modulation(None, [1.])[1]).all()


@pytest.mark.parametrize('horizon,alpha', [(0, 1.), (1000, 5.)])
def test_the_config_horizon_reaches_alpha(horizon, alpha):
  """NGUConfig.rnd_statistics_horizon sets the reward function's alpha: after
  RND's early errors, a state with 4x the usual error is modulated only
  with a horizon."""
  reward = rewards.IntrinsicRewardFunction(ngu_config.NGUConfig(
      num_neighbours=2, rnd_statistics_horizon=horizon))
  rng = np.random.default_rng(1)
  errors = np.concatenate([rng.uniform(5., 15., 500),
                           rng.normal(0.07, 0.01, 20_000)])
  embedding = np.zeros((1, 3))
  for step, error in enumerate(errors):
    if step % 100 == 0:
      reward.reset()  # Short episodes keep the k-NN search cheap.
    reward.with_modulation(embedding, [error])
  assert reward.with_modulation(embedding, [0.28])[1][0] == alpha


def test_long_episode_memory_keeps_every_embedding():
  # More steps than the memory's first buffer (64), as in Atari episodes.
  novelty = single(rewards.EpisodicNovelty(
      ngu_config.NGUConfig(num_neighbours=5)))
  rng = np.random.RandomState(1)
  points = [rng.randn(3) for _ in range(150)]
  novelty(points[0])
  history = []
  for t in range(1, 150):
    expected, history = expected_episodic(points[:t], points[t], history, k=5)
    assert novelty(points[t]) == pytest.approx(expected, rel=1e-9)


def test_environments_of_a_batch_keep_their_own_memories_and_statistics():
  # Three environments with different episode boundaries: each gets exactly
  # the rewards of a one-environment computation on its own stream, and a
  # reset empties only its own memory.
  config = ngu_config.NGUConfig(num_neighbours=3)
  batch = rewards.IntrinsicRewardFunction(config, num_environments=3)
  alone = [rewards.IntrinsicRewardFunction(config) for _ in range(3)]
  rng = np.random.RandomState(2)
  for t in range(40):
    embeddings, errors = rng.randn(3, 4), rng.rand(3)
    ends = [t % 7 == 6, t % 11 == 10, False]
    got = batch(embeddings, errors)
    for i in range(3):
      expected = alone[i](embeddings[i:i + 1], errors[i:i + 1])[0]
      assert got[i] == pytest.approx(expected, rel=1e-9)
    for i in np.flatnonzero(ends):
      batch.reset([i])
      alone[i].reset()
    # A subset of the environments (as when episodes start) leaves the
    # others untouched.
    if t % 5 == 0:
      first = rng.randn(1, 4)
      batch(first, [0.5], indices=[1])
      alone[1](first, [0.5])


def test_full_memory_replaces_its_oldest_embeddings():
  # Capacity 4 (NGU's is 30,000): each reward compares with the 4 latest
  # embeddings of the episode only.
  config = ngu_config.NGUConfig(num_neighbours=2, episodic_memory_capacity=4)
  novelty = single(rewards.EpisodicNovelty(config))
  rng = np.random.RandomState(3)
  points = [rng.randn(3) for _ in range(70)]
  points.append(points[0] + 1e-3)  # A revisit of a long-forgotten state.
  novelty(points[0])
  history = []
  for t in range(1, len(points)):
    expected, history = expected_episodic(points[max(0, t - 4):t], points[t],
                                          history, k=2)
    assert novelty(points[t]) == pytest.approx(expected, rel=1e-9), t
  with pytest.raises(ValueError, match='episodic_memory_capacity'):
    rewards.EpisodicNovelty(ngu_config.NGUConfig(episodic_memory_capacity=0))
