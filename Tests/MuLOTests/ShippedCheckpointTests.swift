import Foundation
import MuLO
import Testing

/// The learned optimizers committed to Checkpoints/ and their PyLO exports (issues 8 and 18):
/// usable as documented, in sync with each other, and honest about their budget.
@Suite("Shipped checkpoints")
struct ShippedCheckpointTests {
    static let names: [String: (architecture: String, parametrization: Parametrization)] = [
        "mulo-m-fashionmnist": ("small_fc_lopt", .mup), "lo-m-fashionmnist": ("small_fc_lopt", .standard),
        "muvelo-m-fashionmnist": ("velo", .mup), "velo-m-fashionmnist": ("velo", .standard),
    ]

    func path(_ name: String) -> String { Support.repoRoot.appendingPathComponent("Checkpoints/\(name).h5").path }

    /// The budget attribute names the outer steps run, and the metrics hold exactly that many.
    @Test func thetaConfigAndBudgetAreRecorded() throws {
        for (name, expected) in Self.names {
            let lo = try LOCheckpoint.loadAny(path(name))
            #expect(lo.architectureName == expected.architecture && lo.parametrization == expected.parametrization, "\(name)")
            #expect(lo.theta.tensors.allSatisfy { $0.data.allSatisfy(\.isFinite) })
            let f = try HDF5File.open(path(name))
            let steps = try f.attributeInt("outer_steps_done")
            // The paper's 5000 outer steps configured, counting those of a θ the run continued.
            let earlier = f.hasAttribute("init_outer_steps") ? try f.attributeInt("init_outer_steps") : 0
            #expect(try f.attributeString("budget").hasPrefix("\(steps) outer steps of meta-training (configured: \(5000 - earlier))"), "\(name)")
            #expect(try f.read("metrics/meta_loss", as: Float.self).values.count == steps, "\(name)")
            #expect(try f.read("metrics/wall_time_s", as: Double.self).values.count == steps, "\(name)")
            #expect(try f.attributeString("config").contains("\"\(name)\""))
        }
    }

    @Test func pyloExportsHoldTheShippedTheta() throws {
        for (name, expected) in Self.names {
            let dir = Support.repoRoot.appendingPathComponent("notebooks-export/exports/\(name)").path
            let lo = try LOCheckpoint.loadAny(path(name))
            if expected.architecture == "velo" {
                let imported = try VeLOExport.importPyLO(dir)
                #expect(imported.theta == lo.theta && imported.velo.parametrization == expected.parametrization, "\(name)")
            } else {
                let imported = try LOExport.importPyLO(dir)
                let (theta, config) = try LOCheckpoint.load(path(name))
                #expect(imported.theta == theta && imported.config.parametrization == config.parametrization && imported.decaysFrom == LOExport.sidecarName)
            }
        }
    }

    /// README: `mulo evaluate-on-width --checkpoint Checkpoints/mulo-m-fashionmnist.h5 …` from the repository.
    @Test func evaluateOnWidthTakesThemAsDocumented() throws {
        let out = try Support.tempDir().appendingPathComponent("eval").path
        let checkpoints = Self.names.keys.sorted().flatMap { ["--checkpoint", "Checkpoints/\($0).h5"] }
        let r = try Support.mulo(["evaluate-on-width"] + checkpoints + ["--template", "mumlp-w{W}-d3_synthetic-8x8x1",
                                  "--widths", "16", "64", "--steps", "20", "--seeds", "1", "--batch", "16", "--test-examples", "100",
                                  "--out", out], cwd: Support.repoRoot)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("μLO mulo-m-fashionmnist") && r.stdout.contains("LO (SP) lo-m-fashionmnist"))
        let h5 = try HDF5File.open("\(out)/results.h5")
        #expect(try h5.attributeString("task", on: "runs/lo-lo-m-fashionmnist/w64/s0") == "mlp-w64-d3_synthetic-8x8x1")
        #expect(try h5.attributeString("task", on: "runs/lo-velo-m-fashionmnist/w64/s0") == "mlp-w64-d3_synthetic-8x8x1")
        #expect(try h5.attributeString("task", on: "runs/lo-muvelo-m-fashionmnist/w64/s0") == "mumlp-w64-d3_synthetic-8x8x1")
        #expect(try h5.attributeInt("diverged_at", on: "runs/lo-mulo-m-fashionmnist/w64/s0") == -1)
    }
}
