"""absl-flag entry points that build and launch the Launchpad programs.

TensorFlow's C++ notices (no GPU, CUDA libraries missing) stay out of the
launcher's terminal, and so do the notices and warnings the rest of the
stack prints when imported (`terminal`; --verbose shows them). TensorFlow
runs with oneDNN's CPU kernels (`tf_runtime`), set before it loads.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from behavior_transfer import tf_runtime  # pylint: disable=g-import-not-at-top,wrong-import-position

tf_runtime.use_in_this_process()

from behavior_transfer.launch import terminal  # pylint: disable=g-import-not-at-top,wrong-import-position

terminal.import_quietly()
