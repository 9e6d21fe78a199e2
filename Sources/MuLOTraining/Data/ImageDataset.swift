/// Which part of a dataset a batch comes from (METHOD §5).
public enum DataSplit: String, Sendable, CaseIterable {
    case train, innerValid = "inner-valid", outerValid = "outer-valid", test
}

/// How stored pixels become model inputs: x = (pixel − mean[c]) / std[c].
public struct Preprocessing: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]

    /// pixel/255, for uint8 images.
    public static func unitScale(channels: Int) -> Preprocessing {
        Preprocessing(mean: .init(repeating: 0, count: channels), std: .init(repeating: 255, count: channels))
    }

    /// ImageNet per-channel normalisation on the 0–255 scale (METHOD §4.5).
    public static let imagenet = Preprocessing(mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
                                               std: [0.229 * 255, 0.224 * 255, 0.225 * 255])

    public static func identity(channels: Int) -> Preprocessing {
        Preprocessing(mean: .init(repeating: 0, count: channels), std: .init(repeating: 1, count: channels))
    }
}

/// Images flattened row-major (H, W, C), stored compactly as bytes where possible.
public struct ImageArray: Sendable {
    public enum Pixels: Sendable {
        case bytes([UInt8])
        case floats([Float])
    }

    public let count: Int
    public let inputDim: Int
    public let pixels: Pixels
    public let labels: [Int32]

    public init(count: Int, inputDim: Int, pixels: Pixels, labels: [Int32]) {
        self.count = count
        self.inputDim = inputDim
        self.pixels = pixels
        self.labels = labels
    }
}

/// A labelled image classification dataset with the METHOD §5 splits.
public final class ImageDataset: Sendable {
    public let name: String
    public let height: Int, width: Int, channels: Int
    public let classes: Int
    public let preprocessing: Preprocessing
    /// Fractions of `trainSet` for train, inner-valid and outer-valid.
    public let splitBounds: (train: ClosedRange<Double>, inner: ClosedRange<Double>, outer: ClosedRange<Double>)
    let trainSet: ImageArray
    let testSet: ImageArray?
    /// Only the first this many examples of the training split are trained on (`DatasetName.trainLimit`).
    public let trainLimit: Int?

    public var inputDim: Int { height * width * channels }

    public init(name: String, height: Int, width: Int, channels: Int, classes: Int,
                preprocessing: Preprocessing, train: ImageArray, test: ImageArray?,
                splitBounds: (ClosedRange<Double>, ClosedRange<Double>, ClosedRange<Double>) = (0...0.8, 0.8...0.9, 0.9...1),
                trainLimit: Int? = nil) throws {
        let d = height * width * channels
        if let trainLimit {
            let n = Double(train.count), f = splitBounds.0
            let available = Int((f.upperBound * n).rounded(.down)) - Int((f.lowerBound * n).rounded(.down))
            guard (1...max(available, 1)).contains(trainLimit) else {
                throw DataError("\(name): -n\(trainLimit) asks for \(trainLimit) training examples; the training split has \(available)")
            }
        }
        for (label, set) in [("train", train), ("test", test)] {
            guard let set else { continue }
            guard set.inputDim == d else {
                throw DataError("\(name): \(label) images have \(set.inputDim) values each, expected \(height)x\(width)x\(channels) = \(d)")
            }
            guard set.labels.count == set.count else {
                throw DataError("\(name): \(label) has \(set.count) images but \(set.labels.count) labels")
            }
            if let bad = set.labels.first(where: { $0 < 0 || Int($0) >= classes }) {
                throw DataError("\(name): \(label) label \(bad) is outside 0..<\(classes)")
            }
        }
        guard preprocessing.mean.count == channels, preprocessing.std.count == channels else {
            throw DataError("\(name): preprocessing has the wrong number of channels")
        }
        self.name = name
        self.height = height
        self.width = width
        self.channels = channels
        self.classes = classes
        self.preprocessing = preprocessing
        self.trainSet = train
        self.testSet = test
        self.splitBounds = splitBounds
        self.trainLimit = trainLimit
    }

    /// This dataset trained on the first `limit` examples of its training split (memory shared).
    public func limitingTraining(to limit: Int) throws -> ImageDataset {
        try ImageDataset(name: "\(name)-n\(limit)", height: height, width: width, channels: channels, classes: classes,
                         preprocessing: preprocessing, train: trainSet, test: testSet,
                         splitBounds: (splitBounds.train, splitBounds.inner, splitBounds.outer), trainLimit: limit)
    }

    /// The images and index range that make up `split`.
    public func range(_ split: DataSplit) throws -> (set: ImageArray, range: Range<Int>) {
        let n = Double(trainSet.count)
        func part(_ f: ClosedRange<Double>) -> Range<Int> {
            Int((f.lowerBound * n).rounded(.down))..<Int((f.upperBound * n).rounded(.down))
        }
        switch split {
        case .train:
            let r = part(splitBounds.train)
            return (trainSet, trainLimit.map { r.lowerBound..<min(r.upperBound, r.lowerBound + $0) } ?? r)
        case .innerValid: return (trainSet, part(splitBounds.inner))
        case .outerValid: return (trainSet, part(splitBounds.outer))
        case .test:
            guard let testSet else { throw DataError("\(name): this dataset has no test set") }
            return (testSet, 0..<testSet.count)
        }
    }

    public func count(_ split: DataSplit) throws -> Int { try range(split).range.count }

    /// A training batch: `size` distinct random examples of `split`, chosen by `key`.
    public func sampleBatch(_ split: DataSplit, size: Int, key: RNGKey, into batch: inout Batch) throws {
        let (set, r) = try range(split)
        guard size <= r.count else {
            throw DataError("\(name): batch of \(size) is larger than the \(split.rawValue) split (\(r.count))")
        }
        let picks = key.distinctIndices(size, below: r.count).map { r.lowerBound + $0 }
        gather(set, picks, into: &batch)
    }

    /// Examples `start..<start+size` of `split`, in order (for evaluation).
    public func sequentialBatch(_ split: DataSplit, start: Int, size: Int, into batch: inout Batch) throws {
        let (set, r) = try range(split)
        guard start >= 0, start + size <= r.count else {
            throw DataError("\(name): examples \(start)..<\(start + size) are outside the \(split.rawValue) split (\(r.count))")
        }
        gather(set, Array((r.lowerBound + start)..<(r.lowerBound + start + size)), into: &batch)
    }

    private func gather(_ set: ImageArray, _ indices: [Int], into batch: inout Batch) {
        let d = inputDim, c = channels
        batch.resize(size: indices.count, inputDim: d)
        let std = preprocessing.std, mean = preprocessing.mean
        // One channel (Fashion-MNIST, the meta-training data): no per-element channel lookup, so the
        // compiler vectorises the loop; the arithmetic, and so every bit, is the same.
        batch.inputs.withUnsafeMutableBufferPointer { x in
            for (row, idx) in indices.enumerated() {
                let dst = x.baseAddress! + row * d
                switch set.pixels {
                case .bytes(let px):
                    px.withUnsafeBufferPointer { all in
                        let src = all.baseAddress! + idx * d
                        if c == 1 {
                            let (m, s) = (mean[0], std[0])
                            for k in 0..<d { dst[k] = (Float(src[k]) - m) / s }
                        } else {
                            for k in 0..<d { dst[k] = (Float(src[k]) - mean[k % c]) / std[k % c] }
                        }
                    }
                case .floats(let px):
                    px.withUnsafeBufferPointer { all in
                        let src = all.baseAddress! + idx * d
                        for k in 0..<d { dst[k] = (src[k] - mean[k % c]) / std[k % c] }
                    }
                }
            }
        }
        for (row, idx) in indices.enumerated() { batch.labels[row] = set.labels[idx] }
    }
}

/// A minibatch: inputs [size, inputDim] row-major and integer labels. Reused across steps.
public struct Batch: Sendable {
    public private(set) var size: Int = 0
    public private(set) var inputDim: Int = 0
    /// Image batches: `inputs` [size, inputDim], one label per example.
    public var inputs: [Float] = []
    /// One label per example, or for token batches the target of every position [size, sequenceLength].
    public var labels: [Int32] = []
    /// Token batches (the language models): input ids [size, sequenceLength].
    public var tokens: [Int32] = []
    public private(set) var sequenceLength: Int = 0
    /// Drives the loss's own randomness (dropout): set with the batch, so it is a function of
    /// the batch's key and the same for both copies of a PES pair.
    public var noiseKey = RNGKey(seed: 0)

    public init() {}

    public init(inputs: [Float], labels: [Int32], inputDim: Int) {
        precondition(inputs.count == labels.count * inputDim)
        self.size = labels.count
        self.inputDim = inputDim
        self.inputs = inputs
        self.labels = labels
    }

    public init(tokens: [Int32], targets: [Int32], sequenceLength: Int) {
        precondition(sequenceLength > 0 && tokens.count % sequenceLength == 0 && targets.count == tokens.count)
        (size, self.sequenceLength, self.tokens, labels) = (tokens.count / sequenceLength, sequenceLength, tokens, targets)
    }

    mutating func resizeTokens(size: Int, length: Int) {
        if self.size != size || sequenceLength != length || tokens.count != size * length {
            (self.size, sequenceLength) = (size, length)
            tokens = [Int32](repeating: 0, count: size * length)
            labels = [Int32](repeating: 0, count: size * length)
        }
    }

    mutating func resize(size: Int, inputDim: Int) {
        if self.size != size || self.inputDim != inputDim {
            self.size = size
            self.inputDim = inputDim
            inputs = [Float](repeating: 0, count: size * inputDim)
            labels = [Int32](repeating: 0, count: size)
        }
    }
}
