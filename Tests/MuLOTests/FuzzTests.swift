import Foundation
@testable import MuLO
@testable import MuLOMeta
@testable import MuLOTraining
import Testing

/// Seeded mutants of valid files through the readers the CLI uses. Every reader must either
/// refuse a mutant with an error or — for the files MuLO protects with checksums (θ files,
/// checkpoints, HDF5 image sets it wrote, exports with their sidecar) — return exactly what the
/// valid file holds: anything else is a silent acceptance. Text formats (TOML, IDX, R data) have
/// no integrity check of their own, so there a mutant only must not crash or hang.
/// `MULO_FUZZ_ITERATIONS` (mutants per format, default 100) runs the long mode.
@Suite("Fuzzing the file readers", .serialized)
struct FuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["MULO_FUZZ_ITERATIONS"] ?? "") ?? 100

    /// Mutant i of `bytes`: truncation, flipped bytes, a zeroed range, random bytes over a range,
    /// or a range repeated — each at positions drawn from a counter-based key (same mutants on
    /// every machine).
    static func mutate(_ bytes: [UInt8], _ i: Int, stream: UInt64) -> [UInt8] {
        let key = RNGKey(seed: 0xF022).split(stream).split(UInt64(i))
        var n: UInt64 = 0
        func draw(_ below: Int) -> Int { n += 1; return key.integer(below: max(below, 1), at: n) }
        var b = bytes
        switch i % 5 {
        case 0: b.removeLast(1 + draw(b.count - 1))
        case 1: for _ in 0..<(1 + draw(8)) { b[draw(b.count)] ^= UInt8(1 + draw(255)) }
        case 2:
            let start = draw(b.count), end = min(b.count, start + 1 + draw(64))
            for k in start..<end { b[k] = 0 }
        case 3:
            let start = draw(b.count), end = min(b.count, start + 1 + draw(32))
            for k in start..<end { b[k] = UInt8(draw(256)) }
        default:
            let start = draw(b.count), end = min(b.count, start + 1 + draw(64))
            b.insert(contentsOf: b[start..<end], at: draw(b.count))
        }
        return b == bytes ? Array(bytes.dropLast()) : b
    }

    /// Runs `read` on every mutant of `file` (written to `path`); counts refusals. `same` says
    /// whether an accepted mutant reads as the original (nil: no integrity to check).
    static func fuzz<T>(_ name: String, file: [UInt8], path: String, stream: UInt64, read: () throws -> T,
                        same: ((T) -> Bool)?) throws {
        var (refused, accepted) = (0, 0)
        for i in 0..<iterations {
            try Data(mutate(file, i, stream: stream)).write(to: URL(fileURLWithPath: path))
            let result: T
            do { result = try read() } catch {
                refused += 1
                // One line that names the file (or, for an export, its directory).
                let message = "\(error)", file = URL(fileURLWithPath: path)
                let names = [file.lastPathComponent, file.deletingLastPathComponent().lastPathComponent]
                #expect(!message.contains("\n") && names.contains { message.contains($0) }, "\(name) mutant \(i): \(message)")
                continue
            }
            accepted += 1
            if let same { #expect(same(result), "\(name): mutant \(i) was accepted with other contents") }
        }
        try Data(file).write(to: URL(fileURLWithPath: path))
        #expect(refused > 0, "\(name): no mutant was refused")
        print("fuzz \(name): \(iterations) mutants, \(refused) refused, \(accepted) accepted")
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    @Test func thetaFiles() throws {
        let dir = try Support.tempDir()
        for (k, architecture) in [(0, "small_fc_lopt"), (1, "velo")] {
            let path = dir.appendingPathComponent("\(architecture).h5").path
            #expect(try Support.mulo(["lo-init", "--architecture", architecture, "--seed", "3", "--out", path]).status == 0)
            let original = try LOCheckpoint.loadAny(path)
            try Self.fuzz("θ (\(architecture))", file: try Self.bytes(path), path: path, stream: UInt64(k),
                          read: { try LOCheckpoint.loadAny(path) },
                          same: { $0.theta == original.theta && $0.architectureName == original.architectureName
                                  && $0.parametrization == original.parametrization })
        }
    }

    @Test func metaTrainingCheckpoints() throws {
        let dir = try Support.tempDir()
        let trainer = try MetaTrainer(config: MetaTrainingTests.tiny(), threads: 1)
        for _ in 0..<2 { try trainer.outerStep() }
        let path = dir.appendingPathComponent("c.h5").path
        try MetaCheckpoint.save(trainer, to: path)
        try Self.fuzz("checkpoint", file: try Self.bytes(path), path: path, stream: 2, read: { () -> MetaState<SmallFCLOpt> in
            let t = try MetaTrainer(config: MetaTrainingTests.tiny(), threads: 1)
            try MetaCheckpoint.restore(t, from: path)
            return t.state
        }, same: { $0 == trainer.state })
    }

    @Test func pyloExports() throws {
        let dir = try Support.tempDir()
        let theta = dir.appendingPathComponent("theta.h5").path
        #expect(try Support.mulo(["lo-init", "--seed", "4", "--out", theta]).status == 0)
        let lo = dir.appendingPathComponent("lo").path
        #expect(try Support.mulo(["export", theta, "--out", lo]).status == 0)
        let original = try LOExport.importPyLO(lo)
        for (k, file) in ["model.safetensors", "config.json"].enumerated() {
            let path = (lo as NSString).appendingPathComponent(file)
            try Self.fuzz("PyLO export \(file)", file: try Self.bytes(path), path: path, stream: 10 + UInt64(k),
                          read: { try LOExport.importPyLO(lo) },
                          same: { $0.theta == original.theta && $0.config == original.config })
        }
        let velo = dir.appendingPathComponent("velo.h5").path, veloDir = dir.appendingPathComponent("velo").path
        #expect(try Support.mulo(["lo-init", "--architecture", "velo", "--out", velo]).status == 0)
        #expect(try Support.mulo(["export", velo, "--out", veloDir]).status == 0)
        let veloOriginal = try VeLOExport.importPyLO(veloDir)
        for (k, file) in ["VeLO_RNN/model.safetensors", "VeLO_MLP/model.safetensors"].enumerated() {
            let path = (veloDir as NSString).appendingPathComponent(file)
            try Self.fuzz("VeLO export \(file)", file: try Self.bytes(path), path: path, stream: 20 + UInt64(k),
                          read: { try VeLOExport.importPyLO(veloDir) },
                          same: { $0.theta == veloOriginal.theta && $0.velo == veloOriginal.velo })
        }
    }

    /// An HDF5 image set as MuLO writes it (checksummed), read by the dataset loader.
    @Test func hdf5ImageSets() throws {
        let dir = try Support.tempDir()
        let path = dir.appendingPathComponent("cifar10-32x32x3.h5").path
        let n = 12
        let file = try HDF5File.create(path)
        try file.write("images", shape: [n, 32, 32, 3], (0..<(n * 3072)).map { UInt8($0 % 251) })
        try file.write("labels", shape: [n], (0..<n).map { Int64($0 % 10) })
        try file.commit()
        let name = try DatasetName(parsing: "cifar10-32x32x3")
        func load() throws -> ImageDataset {
            try HDF5ImageDataset.load(path: path, name: name, classes: 10, preprocessing: .unitScale(channels: 3),
                                      splitBounds: (0...0.8, 0.8...0.9, 0.9...1))
        }
        func content(_ d: ImageDataset) -> [Int32] {
            guard case .bytes(let b) = d.trainSet.pixels else { return [] }
            return d.trainSet.labels + b.map(Int32.init)
        }
        let original = content(try load())
        try Self.fuzz("HDF5 image set", file: try Self.bytes(path), path: path, stream: 30, read: load, same: { content($0) == original })
    }

    /// Formats without an integrity check: a mutant must be refused or read, never crash or hang.
    @Test func textFormats() throws {
        let dir = try Support.tempDir()
        let toml = dir.appendingPathComponent("c.toml").path
        try MetaTrainCommandTests.config.write(toFile: toml, atomically: true, encoding: .utf8)
        try Self.fuzz("TOML config", file: try Self.bytes(toml), path: toml, stream: 40, read: {
            try MetaConfig.parse(toml: String(decoding: try Self.bytes(toml), as: UTF8.self), defaultName: "f", source: toml)
        }, same: nil)
        // A 3×4×4 IDX image file (ubyte, rank 3).
        let idx = dir.appendingPathComponent("x.idx").path
        try Data([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 4] + (0..<48).map { UInt8($0) }).write(to: URL(fileURLWithPath: idx))
        try Self.fuzz("IDX", file: try Self.bytes(idx), path: idx, stream: 41, read: {
            try IDXFile(data: try Self.bytes(idx), expectRank: 3, source: idx)
        }, same: nil)
        if let rdb = CorpusLoader.austenCandidates.first(where: FileManager.default.fileExists) {
            let copy = dir.appendingPathComponent("Rdata.rdb").path
            try Self.fuzz("R data (austen)", file: try Self.bytes(rdb), path: copy, stream: 42, read: { try RDataStrings.records(copy) }, same: nil)
        }
    }
}
