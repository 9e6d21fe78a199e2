// The layers below, visible in every file of this module (and re-exported to its clients).
@_exported import MuLOTraining
