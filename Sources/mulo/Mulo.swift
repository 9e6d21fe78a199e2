import ArgumentParser
import Foundation
import CStdioShim

@main
struct Mulo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mulo",
        abstract: "Meta-train and evaluate μP learned optimizers (μLO).",
        discussion: """
            The main job is `mulo meta-train`: without a config it meta-trains the demo μLO \
            (MetaTasks/demo.toml, about 20 s) and compares it with the shipped learned optimizers at \
            width 512. `mulo <command> --help` describes each command.
            """,
        subcommands: [MetaTrain.self, EvaluateOnWidth.self, Tune.self, CoordCheck.self, Export.self, Import.self, Train.self, LOInit.self, CheckReference.self, Bench.self, Replot.self, Report.self, CheckHDF5File.self]
    )

    /// Bare `mulo` prints the overview and starts nothing; a first word that is not a command gets
    /// the nearest one (ArgumentParser cannot give the root both subcommands and free words).
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        let commands = configuration.subcommands.map { $0._commandName }
        if args.isEmpty {
            print(helpMessage())
            return
        }
        if let word = args.first, !word.hasPrefix("-"), !commands.contains(word), word != "help" {
            let hint = MetaTrain.closest(word, among: commands).map { "; did you mean `mulo \($0)`?" } ?? ""
            FileHandle.standardError.write(Data("Error: unknown command '\(word)'\(hint) (`mulo --help` lists the commands)\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        mulo_line_buffer_stdout()
        CheckHDF5File.install()
        main(args)
    }
}
