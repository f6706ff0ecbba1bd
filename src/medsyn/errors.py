"""Errors the workflow reports to users: each message names the file, column or key at fault."""


class MedsynError(Exception):
    """Base class: an actionable problem with the user's input, config or environment."""


class SpecError(MedsynError):
    """A dataset spec is malformed or inconsistent."""


class DataError(MedsynError):
    """A real data table does not match its spec."""


class ConfigError(MedsynError):
    """The workflow config is invalid."""


class ModelError(MedsynError):
    """A model file cannot be found, verified or loaded."""


class GenerationError(MedsynError):
    """Generation cannot proceed (e.g. the prompt does not fit the context)."""


class BackendError(MedsynError):
    """llama.cpp crashes, hangs or computes wrong results with a model on this machine (the backend preflight)."""


class PromptError(MedsynError):
    """A prompt file is unreadable, lacks a key or has one it should not, or belongs to another run."""
