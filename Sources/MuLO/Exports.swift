// MuLO re-exports its lower layers, so `import MuLO` is all a user (or the CLI) needs.
@_exported import MuLOMeta
