"""The pipeline's settings: agent names and stage names are checked up front."""

import pytest

from behavior_transfer.studies import pipeline


def test_arms_parse_modes_and_weight_initialisation():
  arms = pipeline.parse_arms(['bt', 'epsilon_greedy+partial_init',
                              'bt+full_init'])
  assert [(a.exploration, a.weight_init) for a in arms] == [
      ('bt', 'none'), ('epsilon_greedy', 'partial'), ('bt', 'full')]
  assert [a.name for a in arms] == ['bt', 'epsilon_greedy+partial_init',
                                    'bt+full_init']


@pytest.mark.parametrize('name', ['bt+half_init', 'curious', 'bt+'])
def test_unknown_arms_list_the_valid_ones(name):
  with pytest.raises(ValueError, match='ez_greedy.*partial_init'):
    pipeline.parse_arms([name])


def test_unknown_task_or_reward_is_refused_before_anything_runs():
  with pytest.raises(ValueError, match='deceptive_first_room'):
    pipeline.validate(pipeline.PipelineSettings(task='gaol'))
  with pytest.raises(ValueError, match='curiosity'):
    pipeline.validate(pipeline.PipelineSettings(intrinsic_reward='curiosity'))
