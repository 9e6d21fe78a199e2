import ArgumentParser

@main
struct Mulo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mulo",
        abstract: "Meta-train and evaluate μP learned optimizers (μLO).",
        subcommands: [MetaTrain.self, EvaluateOnWidth.self, Tune.self, CoordCheck.self, Export.self, Import.self, Train.self, LOInit.self, CheckReference.self, Bench.self],
        defaultSubcommand: MetaTrain.self
    )
}
