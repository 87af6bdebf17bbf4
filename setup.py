"""Install script for Behavior Transfer (BT) on the DeepMind stack.

The repository root is the `behavior_transfer` package, so another Acme project
can import `behavior_transfer.agents.bt` without a bare `agents` name colliding
with its own.
"""

import os

import setuptools


def _requirements(filename: str) -> list:
  """The requirement lines of a file next to this one."""
  path = os.path.join(os.path.dirname(os.path.abspath(__file__)), filename)
  with open(path) as f:
    return [line.strip() for line in f
            if line.strip() and not line.lstrip().startswith('#')]


# The stack verified to install and run together on Python 3.10 (README, "Two
# commands"); the Vertex AI image installs the same files.
INSTALL_REQUIRES = _requirements('requirements.txt')
VERTEX_REQUIRES = _requirements('requirements-vertex.txt')

_SUBPACKAGES = setuptools.find_packages(
    where='.', exclude=['tests', 'tests.*', 'benchmarks', 'benchmarks.*'])

setuptools.setup(
    name='behavior-transfer',
    version='0.1.0',
    description=('Behavior Transfer: pre-trained exploratory policies that help '
                 'new agents explore, on Acme, Reverb and Launchpad.'),
    python_requires='>=3.10,<3.11',
    package_dir={'behavior_transfer': '.'},
    packages=['behavior_transfer'] +
    ['behavior_transfer.' + name for name in _SUBPACKAGES],
    # The bundled pre-trained policies (SavedModels and provenance files).
    package_data={'behavior_transfer': ['requirements*.txt',
                                        'requirements.lock'],
                  'behavior_transfer.policies': ['bundled/*/*',
                                                 'bundled/*/*/*']},
    install_requires=INSTALL_REQUIRES,
    extras_require={'test': ['pytest', 'pytest-timeout'],
                    'vertex': VERTEX_REQUIRES},
)
