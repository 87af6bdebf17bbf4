"""Where an agent's pieces run: the Launchpad program layout shared by every
agent (`layout`), its settings (`program_config`), and the code that runs
inside a node (`nodes`, `checkpointing`, `coordinator`, `variable_cache`,
`logs`). Imports agents and below, never the launching side."""
