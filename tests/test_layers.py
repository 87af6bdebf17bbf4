"""The package's layers import only downward, and components stay free of
the launching side.

Bottom to top: environments, networks, policies, acting, agents,
distributed, launching, experiments, studies, launch. A module may import
its own layer and the layers below it; `ast` reads every import, including
those inside functions.
"""

import ast
import os
import subprocess
import sys
from typing import Iterator, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = ('environments', 'networks', 'policies', 'acting', 'agents',
          'distributed', 'launching', 'experiments', 'studies', 'launch')
# Third-party modules that belong to launching programs, not to components.
LAUNCHING_SIDE = ('launchpad', 'xmanager')
# Layers whose modules are components another Acme project picks up.
COMPONENT_LAYERS = LAYERS[:LAYERS.index('agents') + 1]


def package_modules() -> Iterator[Tuple[str, str]]:
  """(layer, path) of every module of the package's layers."""
  for layer in LAYERS:
    for directory, _, files in os.walk(os.path.join(ROOT, layer)):
      for name in sorted(files):
        if name.endswith('.py'):
          yield layer, os.path.join(directory, name)


def imported_modules(path: str) -> Iterator[str]:
  """Absolute names of every module `path` imports."""
  with open(path) as f:
    tree = ast.parse(f.read(), path)
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      yield node.module
      yield from (f'{node.module}.{alias.name}' for alias in node.names)


def layer_of(module: str):
  """The layer a `behavior_transfer.<layer>...` module belongs to, or None."""
  parts = module.split('.')
  if parts[0] == 'behavior_transfer' and len(parts) > 1:
    return parts[1] if parts[1] in LAYERS else None
  return None


def test_every_layer_is_a_folder_of_the_package():
  for layer in LAYERS:
    assert os.path.exists(os.path.join(ROOT, layer, '__init__.py')), layer


def test_imports_only_point_down():
  upward = []
  for layer, path in package_modules():
    for module in imported_modules(path):
      target = layer_of(module)
      if target and LAYERS.index(target) > LAYERS.index(layer):
        upward.append(f'{os.path.relpath(path, ROOT)} imports {module} '
                      f'({layer} -> {target})')
  assert not upward, 'Imports that run back up:\n' + '\n'.join(upward)


def test_components_do_not_import_the_launching_side():
  found = []
  for layer, path in package_modules():
    if layer not in COMPONENT_LAYERS:
      continue
    for module in imported_modules(path):
      if module.split('.')[0] in LAUNCHING_SIDE:
        found.append(f'{os.path.relpath(path, ROOT)} imports {module}')
  assert not found, '\n'.join(found)


def test_the_test_catches_an_upward_import(tmp_path):
  path = tmp_path / 'bad.py'
  path.write_text('def f():\n  from behavior_transfer.launching import runs\n')
  assert 'behavior_transfer.launching' in set(imported_modules(str(path)))
  assert layer_of('behavior_transfer.launching.runs') == 'launching'


def test_importing_the_agents_loads_nothing_above_them():
  # Acme itself imports Launchpad's modules, so only this package's layers
  # and XManager are checked here.
  above = LAYERS[LAYERS.index('agents') + 1:]
  code = ('import sys\n'
          'from behavior_transfer.agents import bt, ngu, r2d2\n'
          'from behavior_transfer import policies, acting\n'
          f'above = {above!r}\n'
          'print(sorted(m for m in sys.modules if m.startswith("xmanager") or '
          '(m.startswith("behavior_transfer.") and m.split(".")[1] in '
          'above)))\n')
  result = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, check=True, cwd=ROOT)
  assert result.stdout.strip().splitlines()[-1] == '[]', result.stdout
