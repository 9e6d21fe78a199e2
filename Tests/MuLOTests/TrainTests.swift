import Foundation
import MuLO
import Testing

@Suite("Training")
struct TrainTests {
    func config(_ task: String, steps: Int, seed: UInt64 = 0) -> TrainConfig {
        TrainConfig(task: task, optimizer: "adam", steps: steps, batchSize: 64, seed: seed, testInterval: 50, testExamples: 1000)
    }

    @Test(arguments: ["mumlp-w64-d3_synthetic-8x8x1", "mlp-w64-d2_synthetic-8x8x1"])
    func lossDecreasesOnSyntheticData(name: String) throws {
        let task = try MLPTaskName(parsing: name).makeMLPTask()
        let r = try train(task: task, optimizer: Adam(schedule: .constant(3e-3)), config: config(name, steps: 200))
        let first = r.trainLoss.prefix(10).reduce(0, +) / 10, last = r.trainLoss.suffix(10).reduce(0, +) / 10
        #expect(last < 0.5 * first, "\(first) → \(last)")
        #expect(r.testAccuracy.last! > 0.5)  // chance is 0.1
        #expect(r.testSteps == [0, 50, 100, 150, 200])
        #expect(r.divergedAt == nil)
    }

    @Test func aRunIsAFunctionOfConfigAndSeed() throws {
        let task = try MLPTaskName(parsing: "mumlp-w32-d2_synthetic-8x8x1").makeMLPTask()
        let opt = Adam(schedule: .constant(1e-2))
        let a = try train(task: task, optimizer: opt, config: config(task.name, steps: 30))
        let b = try train(task: task, optimizer: opt, config: config(task.name, steps: 30))
        let c = try train(task: task, optimizer: opt, config: config(task.name, steps: 30, seed: 1))
        #expect(a.params == b.params && a.trainLoss == b.trainLoss)
        #expect(a.params != c.params)
    }

    @Test func divergenceIsRecordedNotACrash() throws {
        let task = try MLPTaskName(parsing: "mlp-w32-d2_synthetic-8x8x1").makeMLPTask()
        let r = try train(task: task, optimizer: SGD(schedule: .constant(1e6)), config: config(task.name, steps: 50))
        #expect(r.divergedAt != nil)
        #expect(r.trainLoss.count == r.divergedAt! + 1)
    }

    @Test func normalizedLossClipsToBound() throws {
        let task = try MLPTaskName(parsing: "mlp-w8-d1_synthetic-2x2x1").makeMLPTask()
        let bound = Float(1.5 * log(10.0))
        #expect(abs(task.lossClipBound - bound) < 1e-6)
        #expect(task.normalizedLoss(.nan) == task.lossClipBound)
        #expect(task.normalizedLoss(.infinity) == task.lossClipBound)
        #expect(task.normalizedLoss(-.infinity) == task.lossClipBound)
        #expect(task.normalizedLoss(99) == task.lossClipBound)
        #expect(task.normalizedLoss(-1) == 0 && task.normalizedLoss(1.25) == 1.25)
    }
}
