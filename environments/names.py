"""Environment names, and checks of names against the valid ones that
suggest close matches on a typo."""

import dataclasses
import difflib
from typing import Callable, Iterable, List, Optional, Union

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


# Why a registered name cannot be used on this install, or None if it can.
Refusal = Callable[[str], Optional[str]]


def usable(registered: Iterable[str], refusal: Refusal) -> List[str]:
  """The `registered` names that `refusal` lets through, sorted."""
  return sorted(name for name in registered if not refusal(name))


def check_usable(kind: str, name: str, registered: Iterable[str],
                 refusal: Refusal) -> str:
  """Returns `name` if it is registered and usable; raises with the reason
  `refusal` gives for a registered name this install cannot use, and
  otherwise as `check_name` does, over the usable names."""
  registered = list(registered)
  reason = refusal(name) if name in registered else None
  if reason:
    raise ValueError(reason)
  return check_name(kind, name, usable(registered, refusal))
