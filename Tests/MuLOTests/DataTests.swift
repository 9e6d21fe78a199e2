import Foundation
import MuLO
import Testing

@Suite("Datasets")
struct DataTests {
    @Test(.enabled(if: Support.fashionMNISTAvailable, "needs Debian's dataset-fashion-mnist"))
    func fashionMNISTLoadsWithSplits() throws {
        let ds = try DatasetLoader.load(DatasetName(parsing: "fashionmnist-28x28x1"))
        #expect(ds.classes == 10 && ds.inputDim == 784)
        #expect(try ds.count(.train) == 48_000)
        #expect(try ds.count(.innerValid) == 6_000)
        #expect(try ds.count(.outerValid) == 6_000)
        #expect(try ds.count(.test) == 10_000)
        #expect(try DataSplit.allCases.filter { $0 != .test }.map { try ds.count($0) }.reduce(0, +) == 60_000)
        var batch = Batch()
        try ds.sequentialBatch(.test, start: 0, size: 10_000, into: &batch)
        #expect(batch.labels.allSatisfy { (0..<10).contains($0) })
        #expect(Set(batch.labels).count == 10)
        #expect(batch.inputs.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(batch.inputs.contains { $0 == 1 })
        // Splits are disjoint contiguous ranges: the outer-valid split starts at image 54,000.
        try ds.sequentialBatch(.outerValid, start: 0, size: 1, into: &batch)
        var whole = Batch()
        try ds.sequentialBatch(.train, start: 0, size: 1, into: &whole)
        #expect(batch.inputs != whole.inputs)
    }

    func idx(_ magic: [UInt8], dims: [UInt32], payload: Int) -> [UInt8] {
        magic + dims.flatMap { d in [24, 16, 8, 0].map { UInt8((d >> $0) & 0xFF) } } + [UInt8](repeating: 7, count: payload)
    }

    @Test func idxHeadersAreValidated() throws {
        let good = try IDXFile(data: idx([0, 0, 8, 3], dims: [2, 3, 4], payload: 24), expectRank: 3, source: "t")
        #expect(good.dims == [2, 3, 4] && good.bytes.count == 24)
        #expect(throws: DataError.self) { try IDXFile(data: idx([0, 0, 9, 3], dims: [2, 3, 4], payload: 24), expectRank: 3, source: "t") }
        #expect(throws: DataError.self) { try IDXFile(data: idx([1, 0, 8, 3], dims: [2, 3, 4], payload: 24), expectRank: 3, source: "t") }
        #expect(throws: DataError.self) { try IDXFile(data: idx([0, 0, 8, 1], dims: [24], payload: 24), expectRank: 3, source: "t") }
        #expect(throws: DataError.self) { try IDXFile(data: idx([0, 0, 8, 3], dims: [2, 3, 4], payload: 23), expectRank: 3, source: "t") }
        #expect(throws: DataError.self) { try IDXFile(data: [0, 0], expectRank: 1, source: "t") }
    }

    @Test func corruptFashionMNISTFilesAreRejected() throws {
        let dir = try Support.tempDir()
        // Plain (uncompressed) files: zlib reads them transparently.
        let bad = idx([0, 0, 8, 3], dims: [60_000, 28, 28], payload: 100)
        try Data(bad).write(to: dir.appendingPathComponent("train-images-idx3-ubyte.gz"))
        try Data(idx([0, 0, 8, 1], dims: [60_000], payload: 60_000)).write(to: dir.appendingPathComponent("train-labels-idx1-ubyte.gz"))
        let e = #expect(throws: DataError.self) { _ = try DatasetLoader.loadFashionMNIST(directory: dir.path) }
        #expect(e?.message.contains("train-images") == true)
    }

    @Test func missingFashionMNISTNamesThePackage() throws {
        let dir = try Support.tempDir()
        let e = #expect(throws: DataError.self) { _ = try DatasetLoader.loadFashionMNIST(directory: dir.path) }
        #expect(e?.message.contains("dataset-fashion-mnist") == true)
    }

    @Test func hdf5ImageDatasetLoadsAndPreprocesses() throws {
        let dir = try Support.tempDir()
        try Support.writeCIFAR10(in: dir, count: 20)
        let ds = try DatasetLoader.load(DatasetName(parsing: "cifar10-2x2x3"), dataDir: dir.path)
        #expect(ds.classes == 10 && ds.inputDim == 12)
        #expect(try ds.count(.train) == 16)
        #expect(throws: DataError.self) { try ds.count(.test) }
        var b = Batch()
        try ds.sequentialBatch(.train, start: 1, size: 1, into: &b)
        #expect(b.inputs == (12..<24).map { Float($0) / 255 })
        #expect(b.labels == [1])
    }

    @Test func imagenetUsesPerChannelNormalisation() throws {
        let dir = try Support.tempDir()
        let f = try HDF5File.create(dir.appendingPathComponent("imagenet-1x1x3.h5").path)
        try f.write("images", shape: [100, 1, 1, 3], [UInt8](repeating: 255, count: 300))
        try f.write("labels", shape: [100], [Int32](repeating: 999, count: 100))
        try f.commit()
        let ds = try DatasetLoader.load(DatasetName(parsing: "imagenet-1x1x3"), dataDir: dir.path)
        var b = Batch()
        try ds.sequentialBatch(.train, start: 0, size: 1, into: &b)
        let expected: [Float] = [(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225]
        for (x, e) in zip(b.inputs, expected) { #expect(abs(x - e) < 1e-5) }
        #expect(try ds.count(.innerValid) == 1)  // train 97–98%
    }

    /// Any name works for an HDF5 image set in the data directory; the class count comes from the
    /// file's `classes` attribute, else its largest label; names that could leave the directory are refused.
    @Test func yourOwnImageSetUnderAnyName() throws {
        let dir = try Support.tempDir()
        for (name, classes) in [("mydata-8x8x1", nil), ("scans_v2-8x8x1", 7)] as [(String, Int?)] {
            let f = try HDF5File.create(dir.appendingPathComponent("\(name).h5").path)
            try f.write("images", shape: [50, 8, 8, 1], (0..<3200).map { UInt8($0 % 256) })
            try f.write("labels", shape: [50], (0..<50).map { Int32($0 % 4) })
            if let classes { try f.setAttribute("classes", classes) }
            try f.commit()
            let ds = try DatasetLoader.load(DatasetName(parsing: name), dataDir: dir.path)
            let trainCount = try ds.count(.train)
            #expect(ds.classes == (classes ?? 4) && ds.inputDim == 64 && trainCount == 40)
        }
        let r = try Support.mulo(["train", "--task", "mumlp-w16-d1_mydata-8x8x1", "--data-dir", dir.path, "--steps", "3", "--batch", "8",
                                  "--out", dir.appendingPathComponent("run.h5").path])
        #expect(r.status == 0, "\(r.stderr)")
        let e = #expect(throws: DataError.self) { try DatasetLoader.load(DatasetName(parsing: "nothere-8x8x1"), dataDir: dir.path) }
        #expect(e?.message.contains("nothere-8x8x1.h5") == true && e?.message.contains("labels") == true)
        #expect(throws: DataError.self) { try DatasetLoader.load(DatasetName(parsing: "../mydata-8x8x1"), dataDir: dir.path) }
    }

    @Test func missingOrMalformedDatasetsAreClearErrors() throws {
        let dir = try Support.tempDir()
        let e = #expect(throws: DataError.self) {
            try DatasetLoader.load(DatasetName(parsing: "imagenet-32x32x3"), dataDir: dir.path)
        }
        #expect(e?.message.contains("imagenet-32x32x3.h5") == true)
        #expect(throws: DataError.self) { try DatasetName(parsing: "fashionmnist") }
        #expect(throws: DataError.self) { try DatasetName(parsing: "x-28x0x1") }
        #expect(throws: DataError.self) { try DatasetLoader.load(DatasetName(parsing: "mnist-28x28x1")) }
        let f = try HDF5File.create(dir.appendingPathComponent("cifar10-32x32x3.h5").path)
        try f.write("images", shape: [2, 32, 32, 1], [UInt8](repeating: 0, count: 2048))
        try f.write("labels", shape: [2], [Int32(0), 1])
        try f.commit()
        #expect(throws: DataError.self) { try DatasetLoader.load(DatasetName(parsing: "cifar10-32x32x3"), dataDir: dir.path) }
    }

    @Test func syntheticDatasetIsDeterministicAndNeedsNoFiles() throws {
        let name = try DatasetName(parsing: "synthetic-4x4x1")
        let a = try DatasetLoader.load(name), b = try DatasetLoader.load(name)
        #expect(a === b)  // cached
        var x = Batch(), y = Batch()
        try a.sampleBatch(.train, size: 64, key: RNGKey(seed: 1), into: &x)
        try a.sampleBatch(.train, size: 64, key: RNGKey(seed: 1), into: &y)
        #expect(x.inputs == y.inputs && x.labels == y.labels)
        #expect(try a.count(.test) == 1000)
        #expect(throws: DataError.self) { try a.sampleBatch(.train, size: 100_000, key: RNGKey(seed: 1), into: &x) }
    }

    /// `-n{N}` (memorisation studies): training batches come from the first N training examples
    /// only, the test set is whole, the name round-trips and bad counts are clear errors.
    @Test func trainingSubsetDrawsOnlyItsExamples() throws {
        let name = try DatasetName(parsing: "synthetic-4x4x1-n16")
        #expect(name.trainLimit == 16 && name.description == "synthetic-4x4x1-n16" && name.whole.description == "synthetic-4x4x1")
        let subset = try DatasetLoader.load(name), whole = try DatasetLoader.load(name.whole)
        #expect(try subset.count(.train) == 16 && subset.count(.test) == whole.count(.test))
        #expect(try subset.count(.innerValid) == whole.count(.innerValid))
        var first = Batch(), batch = Batch()
        try whole.sequentialBatch(.train, start: 0, size: 17, into: &first)
        let d = first.inputDim
        let rows = (0..<17).map { Array(first.inputs[$0 * d..<($0 + 1) * d]) }
        var seen = Set<Int>()
        for seed in 0..<40 {
            try subset.sampleBatch(.train, size: 8, key: RNGKey(seed: UInt64(seed)), into: &batch)
            for r in 0..<8 { seen.insert(try #require(rows.firstIndex(of: Array(batch.inputs[r * d..<(r + 1) * d])))) }
        }
        #expect(seen == Set(0..<16), "\(seen.sorted())")  // all 16 drawn, the 17th never
        #expect(throws: DataError.self) { try subset.sampleBatch(.train, size: 17, key: RNGKey(seed: 1), into: &batch) }
        for bad in ["synthetic-4x4x1-n0", "synthetic-4x4x1-n", "synthetic-4x4x1-nx2", "synthetic-4x4x1-n-3"] {
            #expect(throws: DataError.self, "\(bad)") { try DatasetName(parsing: bad) }
        }
        let tooMany = try DatasetName(parsing: "synthetic-4x4x1-n100000")
        #expect { try DatasetLoader.load(tooMany) } throws: { "\($0)".contains("training split has") }
        let task = try TaskRegistry.parse("mumlp-w8-d2_synthetic-4x4x1-n16")
        #expect(task.description == "mumlp-w8-d2_synthetic-4x4x1-n16")
    }
}
