import Foundation
import MuLO
import Testing

/// `scripts/ship-results.sh ship`, run in a copy of the repository's layout on four tiny
/// meta-training runs named as the shipped ones. The final pipeline of issue 18 ships again at
/// every session's restart: it must keep the finished evaluation runs of a θ it ships again and
/// drop only those of a θ that changed, and keep the shipped θ of a run not started yet.
@Suite("scripts/ship-results.sh")
struct ShipResultsScriptTests {
    static let names = ["mulo-m-fashionmnist", "lo-m-fashionmnist", "muvelo-m-fashionmnist", "velo-m-fashionmnist"]

    /// A two-outer-step meta-training on synthetic data, checkpointed at every step (VeLO with
    /// muvelo-demo's init: the reference's moves nothing, so θ would not change).
    static func config(_ name: String) -> String {
        let velo = name.contains("velo"), mu = name.hasPrefix("mu")
        return """
            name = "\(name)"
            outer_steps = 2
            [[families]]
            template = "\(mu ? "mu" : "")mlp-w{W}-d2_synthetic-4x4x1"
            widths = [8]
            batch_size = 8
            [learned_optimizer]
            parametrization = "\(mu ? "mu" : "sp")"
            \(velo ? "architecture = \"velo\"\ninit_controls = 1\ninit_lr_mult = 30" : "")
            [estimator]
            pairs = 1
            truncation = 2
            episode_min = 4
            episode_max = 6
            initial_offset_max = 1
            [checkpoint]
            interval = 1
            keep = 5
            """
    }

    @Test func shippingTheSameThetaAgainKeepsItsEvaluationRuns() throws {
        let dir = try Support.tempDir()
        let repo = dir.appendingPathComponent("repo"), runs = dir.appendingPathComponent("runs")
        let fm = FileManager.default
        for sub in ["scripts", "Checkpoints", "notebooks-export/exports"] {
            try fm.createDirectory(at: repo.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try fm.copyItem(at: Support.repoRoot.appendingPathComponent("scripts/ship-results.sh"),
                        to: repo.appendingPathComponent("scripts/ship-results.sh"))
        func metaTrain(_ name: String, steps: Int) throws {
            let toml = dir.appendingPathComponent("\(name).toml")
            try Self.config(name).write(to: toml, atomically: true, encoding: .utf8)
            let r = try Support.mulo(["meta-train", toml.path, "--out", runs.appendingPathComponent(name).path, "--steps", "\(steps)",
                                      "--threads", "1", "--compare-width", "0"] + (steps > 1 ? ["--resume"] : []))
            #expect(r.status == 0, "\(name): \(r.stderr)")
        }
        func ship() throws {
            let r = try Support.run(URL(fileURLWithPath: "/bin/bash"), [repo.appendingPathComponent("scripts/ship-results.sh").path, runs.path, "ship"],
                                    env: ["MULO": Support.muloExecutable.path])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        }
        // Finished evaluation runs of each learned optimizer, as evaluate-on-width names them.
        let evalRuns = runs.appendingPathComponent("eval-study/runs")
        func evalRun(_ name: String) -> String { evalRuns.appendingPathComponent("lo-\(name)_w8_s0.h5").path }
        func shipped(_ name: String) throws -> Data { try Data(contentsOf: repo.appendingPathComponent("Checkpoints/\(name).h5")) }

        for name in Self.names { try metaTrain(name, steps: 1) }
        try ship()
        for name in Self.names {
            let layout = name.contains("velo") ? "mulo_velo.json" : "mulo_lo.json"
            #expect(fm.fileExists(atPath: repo.appendingPathComponent("notebooks-export/exports/\(name)/\(layout)").path), "\(name)")
        }
        let first = try Self.names.map(shipped)
        try fm.createDirectory(at: evalRuns, withIntermediateDirectories: true)
        for name in Self.names { #expect(fm.createFile(atPath: evalRun(name), contents: Data("run".utf8))) }

        // The same θs again (a restart): every run stays, every shipped file is the same bytes.
        Thread.sleep(forTimeInterval: 1.1)
        try ship()
        #expect(Self.names.allSatisfy { fm.fileExists(atPath: evalRun($0)) })
        #expect(try Self.names.map(shipped) == first)

        // μVeLO meta-trains one more outer step: only its runs go.
        try metaTrain("muvelo-m-fashionmnist", steps: 2)
        try ship()
        for name in Self.names {
            #expect(fm.fileExists(atPath: evalRun(name)) == (name != "muvelo-m-fashionmnist"), "\(name)")
        }

        // A run not started yet: no directory, its shipped θ and runs stay.
        try fm.removeItem(at: runs.appendingPathComponent("velo-m-fashionmnist"))
        let velo = try shipped("velo-m-fashionmnist")
        try ship()
        #expect(try shipped("velo-m-fashionmnist") == velo && fm.fileExists(atPath: evalRun("velo-m-fashionmnist")))
    }

    /// A study cut to fewer widths (`lm-width-to256`, the pipeline's early part of `lm-width`) run after
    /// the whole study has finished — a fresh run directory — must leave the whole study's results as
    /// they are rather than replace them with the cut one's widths (the whole study's step would then
    /// find nothing to adopt for the rest and run it again: hours of compute, as happened once).
    @Test func aCutStudyLeavesTheWholeStudysResults() throws {
        let dir = try Support.tempDir()
        let repo = dir.appendingPathComponent("repo"), fm = FileManager.default
        try fm.createDirectory(at: repo.appendingPathComponent("scripts"), withIntermediateDirectories: true)
        try fm.createDirectory(at: repo.appendingPathComponent("results/lm-width"), withIntermediateDirectories: true)
        try fm.copyItem(at: Support.repoRoot.appendingPathComponent("scripts/ship-results.sh"),
                        to: repo.appendingPathComponent("scripts/ship-results.sh"))
        // The committed whole study (widths 64–512).
        let results = repo.appendingPathComponent("results/lm-width/results.h5")
        try fm.copyItem(at: Support.repoRoot.appendingPathComponent("results/lm-width/results.h5"), to: results)
        let before = try Data(contentsOf: results)
        // No evaluation may start: a mulo that fails at once stands for one.
        func step(_ name: String, widths: String? = nil, baselinesOnly: Bool = false) throws -> (status: Int32, out: String) {
            var env = ["MULO": "/bin/false"]
            if baselinesOnly { env["BASELINES_ONLY"] = "1" }
            if let widths { env["WIDTHS_LM_WIDTH"] = widths }
            let r = try Support.run(URL(fileURLWithPath: "/bin/bash"),
                                    [repo.appendingPathComponent("scripts/ship-results.sh").path, dir.appendingPathComponent("runs").path, name],
                                    env: env)
            return (r.status, r.stdout + r.stderr)
        }
        let cut = try step("lm-width-to256")
        #expect(cut.status == 0 && cut.out.contains("holds widths 512 too, kept"), "\(cut.out)")
        #expect(try Data(contentsOf: results) == before)
        // A cut that loses no width of the results is evaluated (here: the failing mulo is called).
        let whole = try step("lm-width", widths: "64 128 256 512")
        #expect(whole.status != 0 && !whole.out.contains("kept"), "\(whole.out)")
        #expect(try Data(contentsOf: results) == before)
        // BASELINES_ONLY writes no results/: its cut is evaluated.
        let baselines = try step("lm-width-to256", baselinesOnly: true)
        #expect(baselines.status != 0 && !baselines.out.contains("kept"), "\(baselines.out)")
        #expect(try Data(contentsOf: results) == before)
    }
}
