"""The one error the emulator raises for anything a user can fix."""


class EmulatorError(RuntimeError):
    """A problem with this machine or a running emulator, said plainly."""
