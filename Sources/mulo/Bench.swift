import ArgumentParser
import MuLO

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks of the hot loops, as ratios against baselines run in the same process.",
        subcommands: [BenchInner.self, BenchLO.self, BenchMeta.self])
}
