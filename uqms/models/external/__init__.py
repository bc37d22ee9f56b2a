"""External programs as stages: a command run per sample in its own folder, ASE calculators, and the
content-addressed cache of their per-sample results."""
