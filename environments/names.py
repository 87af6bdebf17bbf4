"""Environment names, and checks of names against the valid ones that
suggest close matches on a typo."""

import dataclasses
import difflib
from typing import Iterable, Union

DOMAINS = ('atari', 'minigrid')


@dataclasses.dataclass(frozen=True)
class EnvironmentName:
  """Dynamics named '<domain>:<level>', e.g. 'atari:pong' or
  'minigrid:MiniGrid-Empty-5x5-v0'; parsed once and passed down."""
  domain: str
  level: str

  def __str__(self) -> str:
    return f'{self.domain}:{self.level}'


Name = Union[str, EnvironmentName]


def parse(name: Name) -> EnvironmentName:
  """The `EnvironmentName` of 'atari:pong' (an `EnvironmentName` passes
  through); a malformed name or unknown domain is refused with examples."""
  if isinstance(name, EnvironmentName):
    return name
  domain, sep, level = name.partition(':')
  if not sep or domain not in DOMAINS or not level:
    raise ValueError(
        f'Environment {name!r} must be "<domain>:<name>" with domain one of '
        f'{", ".join(DOMAINS)}, e.g. "atari:montezuma_revenge" or '
        f'"minigrid:MiniGrid-DoorKey-5x5-v0".')
  return EnvironmentName(domain, level)


def check_name(kind: str, name: str, valid: Iterable[str]) -> str:
  """Returns `name` if valid; otherwise raises a ValueError naming the options."""
  valid = sorted(valid)
  if name in valid:
    return name
  close = difflib.get_close_matches(name, valid, n=5, cutoff=0.5)
  hint = (f' Close valid names: {", ".join(close)}.' if close else
          f' Valid names: {", ".join(valid)}.')
  raise ValueError(f'Unknown {kind} {name!r}.{hint}')
