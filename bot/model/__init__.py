"""The governance model: parties, key roles, forums, the escalation ladder and the service catalogue, as data."""

from bot.model.loader import ModelError, load_model, load_model_text, shipped_model_path
from bot.model.schema import GovernanceModel, Label, Party, PersonSeed, Role

__all__ = [
    "GovernanceModel",
    "Label",
    "ModelError",
    "Party",
    "PersonSeed",
    "Role",
    "load_model",
    "load_model_text",
    "shipped_model_path",
]
