"""The environment holds exactly the versions requirements.lock pins (what
`make test`, `make demo` and the Vertex AI image install)."""

from importlib import metadata
import os
import re

LOCK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    'requirements.lock')


def normalise(name: str) -> str:
  return re.sub(r'[-_.]+', '-', name).lower()


def locked_versions(path: str = LOCK) -> dict:
  """{normalised package name: version} of the lock's `name==version` lines."""
  pins = {}
  with open(path) as f:
    for line in f:
      line = line.split('#', 1)[0].strip()
      if line:
        name, separator, version = line.partition('==')
        assert separator, f'{path}: {line!r} is not pinned with =='
        pins[normalise(name)] = version
  return pins


def installed_versions() -> dict:
  return {normalise(d.metadata['Name']): d.version
          for d in metadata.distributions()}


def test_installed_versions_are_the_locked_ones():
  locked, installed = locked_versions(), installed_versions()
  assert len(locked) > 100  # The whole environment, not the top level.
  for pinned in ('tensorflow', 'dm-acme', 'dm-reverb', 'dm-launchpad',
                 'numpy', 'gymnasium', 'pillow', 'matplotlib', 'pandas',
                 'psutil', 'dm-tree'):
    assert pinned in locked, pinned
  differ = [f'{name}: locked {version}, installed '
            f'{installed.get(name, "nothing")}'
            for name, version in sorted(locked.items())
            if installed.get(name) != version]
  assert not differ, ('The environment differs from requirements.lock '
                      '(run make clean-venv && make test, or make lock after '
                      'changing requirements):\n' + '\n'.join(differ))


def test_every_installed_package_is_locked():
  unlocked = sorted(set(installed_versions()) - set(locked_versions()) -
                    {'pip', 'setuptools', 'wheel', 'behavior-transfer'})
  assert not unlocked, f'Installed but not in requirements.lock: {unlocked}'
