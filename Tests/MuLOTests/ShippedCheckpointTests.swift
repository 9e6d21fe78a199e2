import Foundation
import MuLO
import Testing

/// The learned optimizers committed to Checkpoints/ and their PyLO exports (issue 8): usable as
/// documented, in sync with each other, and meta-trained with one budget.
@Suite("Shipped checkpoints")
struct ShippedCheckpointTests {
    static let names = ["mulo-m-fashionmnist": Parametrization.mup, "lo-m-fashionmnist": .standard]

    func path(_ name: String) -> String { Support.repoRoot.appendingPathComponent("Checkpoints/\(name).h5").path }

    @Test func thetaConfigAndBudgetAreRecordedAndEqual() throws {
        var budgets: [Int] = []
        for (name, parametrization) in Self.names {
            let (theta, config) = try LOCheckpoint.load(path(name))
            #expect(config.parametrization == parametrization && theta.count == 2409 && theta.flat.allSatisfy(\.isFinite))
            let f = try HDF5File.open(path(name))
            let steps = try f.attributeInt("outer_steps_done")
            #expect(try f.attributeString("budget").hasPrefix("\(steps) outer steps of meta-training (configured: 5000)"))
            #expect(try f.read("metrics/meta_loss", as: Float.self).values.count == steps)
            #expect(try f.attributeString("config").contains("\"\(name)\""))
            budgets.append(steps)
        }
        #expect(Set(budgets).count == 1, "μLO and SP LO meta-trained with different budgets: \(budgets)")
    }

    @Test func pyloExportsHoldTheShippedTheta() throws {
        for name in Self.names.keys {
            let dir = Support.repoRoot.appendingPathComponent("notebooks-export/exports/\(name)").path
            let imported = try LOExport.importPyLO(dir)
            let (theta, config) = try LOCheckpoint.load(path(name))
            #expect(imported.theta == theta && imported.config.parametrization == config.parametrization && imported.decaysFrom == LOExport.sidecarName)
        }
    }

    /// README: `mulo evaluate-on-width --checkpoint Checkpoints/mulo-m-fashionmnist.h5 …` from the repository.
    @Test func evaluateOnWidthTakesThemAsDocumented() throws {
        let out = try Support.tempDir().appendingPathComponent("eval").path
        let r = try Support.mulo(["evaluate-on-width", "--checkpoint", "Checkpoints/mulo-m-fashionmnist.h5",
                                  "--checkpoint", "Checkpoints/lo-m-fashionmnist.h5", "--template", "mumlp-w{W}-d3_synthetic-8x8x1",
                                  "--widths", "16", "64", "--steps", "20", "--seeds", "1", "--batch", "16", "--test-examples", "100",
                                  "--out", out], cwd: Support.repoRoot)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("μLO mulo-m-fashionmnist") && r.stdout.contains("LO (SP) lo-m-fashionmnist"))
        let h5 = try HDF5File.open("\(out)/results.h5")
        #expect(try h5.attributeString("task", on: "runs/lo-lo-m-fashionmnist/w64/s0") == "mlp-w64-d3_synthetic-8x8x1")
        #expect(try h5.attributeInt("diverged_at", on: "runs/lo-mulo-m-fashionmnist/w64/s0") == -1)
    }
}
