"""Install script for Behavior Transfer (BT) on the DeepMind stack.

The repository root is the `behavior_transfer` package, so another Acme project
can import `behavior_transfer.agents.bt` without a bare `agents` name colliding
with its own.
"""

import setuptools

# The stack verified to install and run together on Python 3.10 (README, "Two
# commands").
# numpy 2 breaks TensorFlow 2.8 at import, so numpy, ml-dtypes and scipy are pinned.
INSTALL_REQUIRES = [
    'tensorflow==2.8.0',
    'tensorflow-estimator==2.8.0',
    'tensorflow-probability==0.15.0',
    'tensorflow-datasets==4.4.0',
    'keras==2.8.0',
    'dm-acme[tf]==0.4.0',
    'dm-reverb==0.7.0',
    'dm-launchpad==0.5.0',
    'dm-sonnet==2.0.2',
    'trfl==1.2.0',
    'dm-env==1.6',
    'dm-tree',
    'numpy==1.23.5',
    'protobuf==3.19.6',
    'scipy==1.11.4',
    'ml-dtypes==0.2.0',
    'jax==0.4.13',  # acme.adders.reverb imports jax.numpy.
    'jaxlib==0.4.13',
    'gym==0.23.1',  # acme.wrappers imports gym.
    'ale-py==0.12.1',  # Ships the Atari ROMs.
    'gymnasium',
    'minigrid==3.1.0',
    'pillow',
    'matplotlib',
    'pandas',
    'psutil',  # The launcher watches node processes.
]

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
    package_data={'behavior_transfer.policies': ['bundled/*/*',
                                                 'bundled/*/*/*']},
    install_requires=INSTALL_REQUIRES,
    extras_require={'test': ['pytest', 'pytest-timeout']},
)
