"""The Ishigami function as a stand-alone program: reads input.json, writes output.json.

An example of an external program for the ``external.command`` stage (workflows/ishigami_program.toml):
run in its own folder, it knows nothing of uqms. Exit code 0 on success.
"""

import json
import math

with open("input.json") as file:
    p = json.load(file)
s1 = math.sin(p["x1"])
y = s1 + p["a"] * math.sin(p["x2"]) ** 2 + p["b"] * p["x3"] ** 4 * s1
with open("output.json", "w") as file:
    json.dump({"y": y}, file)
