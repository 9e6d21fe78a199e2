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

    /// Run configurations are stored with snake_case keys and numbers as numbers — only where the
    /// number reads back to the same text, so a stored run still equals the settings that made it;
    /// the camelCase, all-strings records of earlier releases still decode to the same values.
    @Test func runConfigsStoreTypedSnakeCaseAndReadOldOnes() throws {
        var c = TrainConfig(task: "mumlp-w8-d1_synthetic-4x4x1", optimizer: "adamw", steps: 1000, batchSize: 128, seed: 2,
                            testInterval: 100, testExamples: 500,
                            optimizerSettings: ["lr": "0.0012616613", "warmup": "1000", "wd": "1e-05", "odd": "0.10", "checkpoint": "a/b.h5"])
        c.divergenceBound = 3.4538777
        let json = String(decoding: try JSONEncoder.sorted.encode(c), as: UTF8.self)
        #expect(json.contains("\"batch_size\":128") && json.contains("\"test_interval\":100"))
        #expect(json.contains("\"lr\":0.0012616613") && json.contains("\"warmup\":1000") && json.contains("\"wd\":1e-05"))
        #expect(json.contains("\"odd\":\"0.10\"") && json.contains("\"checkpoint\":\"a\\/b.h5\""))
        #expect(try JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8)) == c)
        let old = #"{"batchSize":128,"divergenceBound":3.4538777,"evalExamples":500,"evalInterval":100,"optimizer":"adamw","optimizerSettings":{"checkpoint":"a/b.h5","lr":"0.0012616613","odd":"0.10","warmup":"1000","wd":"1e-05"},"seed":2,"steps":1000,"task":"mumlp-w8-d1_synthetic-4x4x1"}"#
        #expect(try JSONDecoder().decode(TrainConfig.self, from: Data(old.utf8)) == c)
    }
}
