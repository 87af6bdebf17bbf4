"""What one run is: the typed spec that `config.json` stores and a resumed
run reads back.

An `ExperimentSpec` names the agent, the dynamics and task, the agent's
hyperparameters (its config), the program's settings (`ProgramConfig`), the
budget and seed, and, for transfer, where pi_p and pre-trained weights come
from. `from_preset` builds one from a preset name; `override` changes single
fields (None leaves a field as it is, as an absent flag does).
"""

import dataclasses
import enum
from typing import Any, Dict, FrozenSet, Mapping, Optional, Union

from behavior_transfer import environments
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.distributed import program_config as program_config_lib
from behavior_transfer.networks import weight_transfer

AgentConfig = Union[r2d2_config.R2D2Config, bt_config.BTConfig,
                    ngu_config.NGUConfig]
# Each agent's config class and its preset registry's lookup.
CONFIG_CLASSES = {'r2d2': r2d2_config.R2D2Config, 'bt': bt_config.BTConfig,
                  'ngu': ngu_config.NGUConfig}
_CONFIG_PRESETS = {'r2d2': r2d2_config.preset, 'bt': bt_config.preset,
                   'ngu': ngu_config.preset}
AGENTS = tuple(CONFIG_CLASSES)
# The layout of config.json. Run directories written before it had one
# (a flat R2D2 config holding the program settings) still resume.
FORMAT = 2
REWARD_FREE_TASK = 'none'


@dataclasses.dataclass
class ExperimentSpec:
  """One run of one agent: everything that decides what it computes."""
  agent: str  # One of AGENTS.
  environment: environments.EnvironmentName
  config: AgentConfig
  program: program_config_lib.ProgramConfig
  max_actor_steps: int
  # The reward the agent learns from; NGU pre-training is reward-free
  # ('none') and only reports the level's tasks.
  task: str = 'game'
  seed: int = 0
  # Transfer (BT): pi_p's source (`policies.sources`), and weight transfer
  # ('full' or 'partial') from a pre-training checkpoint directory or
  # 'bundled:<name>'.
  pretrained: Optional[str] = None
  weight_init: str = 'none'
  weights_checkpoint: Optional[str] = None

  def __post_init__(self):
    self.environment = environments.parse(self.environment)
    if self.agent not in AGENTS:
      raise ValueError(f'Unknown agent {self.agent!r}; valid: '
                       f'{", ".join(AGENTS)}.')
    if not isinstance(self.config, CONFIG_CLASSES[self.agent]):
      raise ValueError(f'Agent {self.agent!r} takes a '
                       f'{CONFIG_CLASSES[self.agent].__name__}, not a '
                       f'{type(self.config).__name__}.')
    if self.max_actor_steps <= 0:
      raise ValueError('The budget (max_actor_steps) must be positive (got '
                       f'{self.max_actor_steps}).')
    self.weight_init = weight_transfer.WeightInit(self.weight_init).value
    if self.weight_init == 'none':
      self.weights_checkpoint = None  # Unused: nothing to record.
    if self.agent != 'bt' and (self.pretrained or self.weight_init != 'none'):
      raise ValueError('Only transfer (agent "bt") takes a pre-trained policy '
                       'or weights.')

  @property
  def r2d2(self) -> r2d2_config.R2D2Config:
    """The R2D2 hyperparameters underneath every agent."""
    return self.config if self.agent == 'r2d2' else self.config.r2d2

  def to_json(self) -> Dict[str, Any]:
    """What config.json holds: plain values, enums by value."""
    values = {field.name: getattr(self, field.name)
              for field in dataclasses.fields(self)}
    values.update(format=FORMAT, environment=str(self.environment),
                  config=_plain(dataclasses.asdict(self.config)),
                  program=dataclasses.asdict(self.program))
    return values

  @classmethod
  def from_json(cls, values: Mapping[str, Any]) -> 'ExperimentSpec':
    """The spec config.json holds, written by this code or an older one."""
    if values.get('format') != FORMAT:
      values = _from_first_format(values)
    values = dict(values)
    values.pop('format', None)
    agent = values['agent']
    return cls(**{**values,
                  'config': _agent_config(agent, values['config']),
                  'program': _dataclass(program_config_lib.ProgramConfig,
                                        values['program'])})

  @staticmethod
  def settings_that_may_change() -> FrozenSet[str]:
    """config.json keys (flattened with dots) that may differ between the
    launches of one run: the budget and the program's operation."""
    return frozenset(
        {'max_actor_steps'} |
        {f'program.{name}' for name in
         program_config_lib.ProgramConfig.settings_that_may_change()})


def from_preset(agent: str, environment: environments.Name,
                max_actor_steps: int, preset: str = 'standard',
                task: Optional[str] = None, seed: int = 0,
                **transfer) -> ExperimentSpec:
  """The spec of `agent` under the domain's `preset` (its config and program
  presets); `task` defaults to the level's reward ('none' for NGU);
  `transfer` sets pretrained, weight_init and weights_checkpoint."""
  if agent not in AGENTS:
    raise ValueError(f'Unknown agent {agent!r}; valid: {", ".join(AGENTS)}.')
  name = environments.parse(environment)
  if task is None:
    task = REWARD_FREE_TASK if agent == 'ngu' else 'game'
  return ExperimentSpec(
      agent=agent, environment=name,
      config=_CONFIG_PRESETS[agent](name.domain, preset),
      program=program_config_lib.preset(name.domain, preset),
      max_actor_steps=max_actor_steps, task=task, seed=seed, **transfer)


def override(spec: ExperimentSpec,
             config: Optional[Mapping[str, Any]] = None,
             r2d2: Optional[Mapping[str, Any]] = None,
             program: Optional[Mapping[str, Any]] = None,
             **fields) -> ExperimentSpec:
  """`spec` with fields replaced: the agent config's (`config`), the R2D2
  hyperparameters underneath it (`r2d2`), the program's (`program`) and the
  spec's own (`fields`). None values leave a field as it is."""
  agent_config = dataclasses.replace(spec.config, **_given(config))
  r2d2_fields = _given(r2d2)
  if spec.agent == 'r2d2':
    agent_config = dataclasses.replace(agent_config, **r2d2_fields)
  else:
    agent_config = dataclasses.replace(
        agent_config,
        r2d2=dataclasses.replace(agent_config.r2d2, **r2d2_fields))
  return dataclasses.replace(
      spec, config=agent_config,
      program=dataclasses.replace(spec.program, **_given(program)),
      **_given(fields))


def _given(values: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
  return {k: v for k, v in (values or {}).items() if v is not None}


def _plain(value):
  """Enums by their value, at any depth."""
  if isinstance(value, enum.Enum):
    return value.value
  if isinstance(value, dict):
    return {k: _plain(v) for k, v in value.items()}
  return value


def _dataclass(cls, values: Mapping[str, Any]):
  """`cls(**values)`, refusing settings `cls` does not have by name."""
  known = {field.name for field in dataclasses.fields(cls)}
  unknown = sorted(set(values) - known)
  if unknown:
    raise ValueError(f'Unknown {cls.__name__} settings: {", ".join(unknown)}.')
  return cls(**values)


def _agent_config(agent: str, values: Mapping[str, Any]) -> AgentConfig:
  if agent not in AGENTS:
    raise ValueError(f'Unknown agent {agent!r}; valid: {", ".join(AGENTS)}.')
  values = dict(values)
  if agent == 'r2d2':
    return _dataclass(r2d2_config.R2D2Config, values)
  values['r2d2'] = _dataclass(r2d2_config.R2D2Config, values['r2d2'])
  return _dataclass(CONFIG_CLASSES[agent], values)


def _from_first_format(values: Mapping[str, Any]) -> Dict[str, Any]:
  """The first config.json layout in this one's: the spec's fields at the top
  with the agent config's (R2D2's flat, BT's and NGU's with 'r2d2' nested),
  and the program's settings inside the R2D2 config."""
  values = dict(values)
  agent = values.pop('agent', None)
  if agent not in AGENTS:
    raise ValueError(f'A config.json without a known agent ({agent!r}).')
  spec_fields = {'environment', 'task', 'seed', 'max_actor_steps',
                 'pretrained', 'weight_init', 'weights_checkpoint'}
  spec = {k: values.pop(k) for k in spec_fields & set(values)}
  r2d2 = values if agent == 'r2d2' else dict(values.pop('r2d2'))
  program_fields = {f.name for f in
                    dataclasses.fields(program_config_lib.ProgramConfig)}
  program = {k: r2d2.pop(k) for k in program_fields & set(r2d2)}
  config = r2d2 if agent == 'r2d2' else {**values, 'r2d2': r2d2}
  spec.setdefault('task', REWARD_FREE_TASK if agent == 'ngu' else 'game')
  return {'agent': agent, **spec, 'config': config, 'program': program}
