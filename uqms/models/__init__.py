"""Models: the Stage protocol, chains and the stage registry."""

from uqms.models.registry import registered_stages, resolve_stage
from uqms.models.stage import Batch, Chain, FunctionStage, Stage, StageError, stage

__all__ = ["Batch", "Chain", "FunctionStage", "Stage", "StageError", "registered_stages", "resolve_stage", "stage"]
