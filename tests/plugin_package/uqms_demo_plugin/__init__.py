"""A stage shipped by a package other than uqms."""

import numpy as np


class Saturation:
    """Coverage (1) of a Langmuir isotherm, ``K p / (1 + K p)``; a negative ``K`` is flagged."""

    inputs = ("K", "p")
    outputs = ("coverage",)
    units = {"coverage": "1"}
    bounds = {"coverage": (0.0, 1.0)}
    status_messages = {1: "negative equilibrium constant"}
    name = "demo.saturation"

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def __call__(self, batch):
        kp = np.abs(batch["K"]) * batch["p"] * self.scale
        return {"coverage": kp / (1.0 + kp), "status": np.where(batch["K"] < 0, 1, 0)}
