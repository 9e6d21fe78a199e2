import Foundation
import MuLO
import Testing

/// `scripts/paper-runs.sh save` and `start`, in a copy of the repository's layout: the finished runs
/// that no committed results.h5 holds with their configuration reach results/in-progress/ (no partial
/// runs, no reported runs, whatever the run directory's file times), and a new run directory gets
/// them back, so a machine lost with its run directory loses none of them; so do
/// the unfinished meta-trainings' restart points; a meta-training whose shipped θ is already its
/// whole MetaTasks part does not run again.
@Suite("scripts/paper-runs.sh")
struct PaperRunsScriptTests {
    @Test func savedRunsComeBackInANewRunDirectory() throws {
        let dir = try Support.tempDir()
        let repo = dir.appendingPathComponent("repo"), fm = FileManager.default
        for sub in ["scripts", "notebooks-export/exports"] {
            try fm.createDirectory(at: repo.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        for file in ["scripts/paper-runs.sh", "scripts/ship-results.sh", "README.md"] {
            try fm.copyItem(at: Support.repoRoot.appendingPathComponent(file), to: repo.appendingPathComponent(file))
        }
        for sub in ["Checkpoints", "MetaTasks", "results"] {
            try fm.copyItem(at: Support.repoRoot.appendingPathComponent(sub), to: repo.appendingPathComponent(sub))
        }
        try? fm.removeItem(at: repo.appendingPathComponent("results/in-progress"))   // the repository's own saved runs
        // μLO_M's part not finished whatever was shipped: only it is started again. VeLO_M's shipped
        // file is the whole of its MetaTasks part (its budget names the same earlier θ and step count).
        let muloToml = repo.appendingPathComponent("MetaTasks/mulo-m-fashionmnist.toml")
        let unfinished = try String(contentsOf: muloToml, encoding: .utf8)
            .replacingOccurrences(of: #"(?m)^outer_steps = \d+"#, with: "outer_steps = 123456", options: .regularExpression)
        try unfinished.write(to: muloToml, atomically: true, encoding: .utf8)
        func file(_ path: URL, _ text: String = "run") throws {
            try fm.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: path, atomically: true, encoding: .utf8)
        }
        // bin/mulo fails at once, so `start` launches no meta-training; `save` reports with the real build.
        func runDirectory(_ name: String) throws -> URL {
            let runs = dir.appendingPathComponent(name)
            try file(runs.appendingPathComponent("bin/mulo"), "#!/bin/sh\nexit 1\n")
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: runs.appendingPathComponent("bin/mulo").path)
            try fm.copyItem(at: Support.muloExecutable, to: runs.appendingPathComponent("bin/mulo-eval"))
            return runs
        }
        func script(_ runs: URL, _ command: String) throws {
            let r = try Support.run(URL(fileURLWithPath: "/bin/bash"), [repo.appendingPathComponent("scripts/paper-runs.sh").path, runs.path, command])
            #expect(r.status == 0, "\(command): \(r.stdout)\(r.stderr)")
        }

        // A run file (<optimizer>_w<width>_s<seed>.h5) is reported when the study's results.h5 holds
        // a run of that name with its configuration: here the one of the committed run, or that
        // configuration changed by `edit`.
        func runFile(_ path: URL, of study: String, _ run: String, edit: (String) -> String = { $0 }) throws {
            let stored = try HDF5File.open(repo.appendingPathComponent("results/\(study)/results.h5").path)
            let config = edit(try stored.attributeString("config", on: "runs/\(run)"))
            try fm.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            let f = try HDF5File.create(path.path)
            try f.setAttribute("config", config)
            try f.commit()
        }
        let runs = try runDirectory("runs")
        try runFile(runs.appendingPathComponent("eval-lm-width/runs/adamw_w64_s0.h5"), of: "lm-width", "adamw/w64/s0")
        // The same name with another θ (a study rerun after a new θ was shipped): not reported.
        try runFile(runs.appendingPathComponent("eval-lm-width/runs/lo-mulo-m-fashionmnist_w64_s0.h5"), of: "lm-width",
                    "lo-mulo-m-fashionmnist/w64/s0") {
            $0.replacingOccurrences(of: #""theta_fingerprint":"[0-9a-f]+""#, with: #""theta_fingerprint":"0123456789abcdef""#,
                                    options: .regularExpression)
        }
        try file(runs.appendingPathComponent("eval-lm-width/runs/adamw_w99999_s0.h5"))   // no such run reported
        try file(runs.appendingPathComponent("eval-lm-width/runs/adamw_w99999_s1.partial.h5"))
        try runFile(runs.appendingPathComponent("eval-mlp-width/runs/adamw_w128_s0.h5"), of: "mlp-width", "adamw/w128/s0")
        // Saved at an earlier stop, reported since: they go (and mlp-width's directory with them).
        try runFile(repo.appendingPathComponent("results/in-progress/eval-lm-width/adamw_w128_s0.h5"), of: "lm-width", "adamw/w128/s0")
        try runFile(repo.appendingPathComponent("results/in-progress/eval-mlp-width/adamw_w256_s0.h5"), of: "mlp-width", "adamw/w256/s0")
        // μLO_M's restart point is saved; a stale one of the finished VeLO_M is removed.
        try file(runs.appendingPathComponent("mulo-m-fashionmnist/restart.h5"), "restart point")
        try file(repo.appendingPathComponent("results/in-progress/meta-velo-m-fashionmnist.h5"))
        // A step that reports part of a study (lm-width's widths <= 256) writes its run directory's
        // results.h5 after every finished run: that does not make the study finished.
        Thread.sleep(forTimeInterval: 1.1)
        try file(runs.appendingPathComponent("eval-lm-width/results.h5"), "written after its runs")
        try file(runs.appendingPathComponent("eval-mlp-width/results.h5"), "written after its runs")
        try script(runs, "save")
        let saved = repo.appendingPathComponent("results/in-progress")
        #expect(try fm.contentsOfDirectory(atPath: saved.path).sorted() == ["eval-lm-width", "meta-mulo-m-fashionmnist.h5"])
        #expect(try fm.contentsOfDirectory(atPath: saved.appendingPathComponent("eval-lm-width").path).sorted()
                == ["adamw_w99999_s0.h5", "lo-mulo-m-fashionmnist_w64_s0.h5"])

        let fresh = try runDirectory("fresh")
        try script(fresh, "start")
        #expect(try String(contentsOf: fresh.appendingPathComponent("eval-lm-width/runs/adamw_w99999_s0.h5"), encoding: .utf8) == "run")
        #expect(try String(contentsOf: fresh.appendingPathComponent("mulo-m-fashionmnist/restart.h5"), encoding: .utf8) == "restart point")
        #expect(try String(contentsOf: fresh.appendingPathComponent("mulo-m-fashionmnist/latest"), encoding: .utf8) == "restart.h5\n")
        #expect(!fm.fileExists(atPath: fresh.appendingPathComponent("lo-m-fashionmnist/latest").path))   // nothing saved for it
        // The pipeline ends by itself: its meta-trainings fail at once.
        func log() -> String { (try? String(contentsOf: fresh.appendingPathComponent("pipeline.log"), encoding: .utf8)) ?? "" }
        var waited = 0
        while !log().contains("no evaluation") && waited < 100 {
            Thread.sleep(forTimeInterval: 0.1)
            waited += 1
        }
        #expect(log().contains("no evaluation"))
        #expect(log().contains("velo-m-fashionmnist: finished and shipped"))
        #expect(log().contains("mulo-m-fashionmnist stopped"))
        #expect(!log().contains("mulo-m-fashionmnist: finished"))
    }
}
