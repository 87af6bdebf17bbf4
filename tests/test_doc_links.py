"""The docs hold together: links resolve, pages are indexed, README is short."""

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, 'docs')
MAX_README_LINES = 300

# [text](target) and ![alt](target); the target ends at whitespace or ')'.
LINK = re.compile(r'!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
EXTERNAL = ('http:', 'https:', 'mailto:')


def markdown_files():
  """README.md, CHANGELOG.md and every docs/*.md page."""
  files = [os.path.join(ROOT, 'README.md'), os.path.join(ROOT, 'CHANGELOG.md')]
  return files + sorted(glob.glob(os.path.join(DOCS, '*.md')))


def link_targets(path):
  """Every link and image target in the Markdown file at `path`."""
  with open(path) as f:
    return LINK.findall(f.read())


def test_every_relative_link_resolves():
  broken = []
  for path in markdown_files():
    for target in link_targets(path):
      if target.startswith(EXTERNAL) or target.startswith('#'):
        continue
      relative = target.split('#', 1)[0]
      if not os.path.exists(os.path.join(os.path.dirname(path), relative)):
        broken.append(f'{os.path.relpath(path, ROOT)}: {target}')
  assert not broken, 'Broken links:\n' + '\n'.join(broken)


def test_readme_is_at_most_300_lines():
  with open(os.path.join(ROOT, 'README.md')) as f:
    lines = len(f.read().splitlines())
  assert lines <= MAX_README_LINES, (
      f'README.md has {lines} lines; at most {MAX_README_LINES}: move detail '
      'to docs/.')


def test_every_docs_page_is_linked_from_the_index():
  index = os.path.join(DOCS, 'README.md')
  linked = {os.path.normpath(os.path.join(DOCS, t.split('#', 1)[0]))
            for t in link_targets(index)}
  pages = [p for p in glob.glob(os.path.join(DOCS, '*.md')) if p != index]
  missing = sorted(os.path.basename(p) for p in pages
                   if os.path.normpath(p) not in linked)
  assert not missing, ('docs/README.md does not link: ' + ', '.join(missing))
