"""The directory: who belongs to which party, holds which key roles, and may order or approve for the City."""
