/// `{name}-{H}x{W}x{C}` (METHOD §5), e.g. `fashionmnist-28x28x1`.
public struct DatasetName: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let height: Int, width: Int, channels: Int
    /// `-n{N}`: train on the first N examples of the training split only (memorisation studies:
    /// a set small enough to fit exactly); evaluation still uses the whole test set.
    public let trainLimit: Int?

    public static let forms = "fashionmnist-28x28x1, synthetic-{H}x{W}x{C}, cifar10-32x32x3, food101-32x32x3, imagenet-{32|64|128|224}x…x3 or any <name>-{H}x{W}x{C} (HDF5 files), each optionally -n{N} (the first N training examples)"

    public init(name: String, height: Int, width: Int, channels: Int, trainLimit: Int? = nil) {
        (self.name, self.height, self.width, self.channels, self.trainLimit) = (name, height, width, channels, trainLimit)
    }

    public init(parsing text: String) throws {
        var text = Substring(text), limit: Int?
        if let dash = text.lastIndex(of: "-"), text[text.index(after: dash)...].first == "n" {
            let digits = text[text.index(dash, offsetBy: 2)...]
            guard let n = Int(digits), n >= 1, digits.allSatisfy(\.isASCII) else {
                throw DataError("dataset '\(text)': -n{N} needs a whole number of training examples N ≥ 1, got '\(digits)'")
            }
            (limit, text) = (n, text[..<dash])
        }
        guard let dash = text.lastIndex(of: "-") else {
            throw DataError("dataset '\(text)' is not of the form {name}-{H}x{W}x{C}; known: \(Self.forms)")
        }
        let dims = text[text.index(after: dash)...].split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard dims.count == 3, let h = dims[0], let w = dims[1], let c = dims[2], h > 0, w > 0, c > 0 else {
            throw DataError("dataset '\(text)' is not of the form {name}-{H}x{W}x{C} with positive sizes; known: \(Self.forms)")
        }
        self.init(name: String(text[..<dash]), height: h, width: w, channels: c, trainLimit: limit)
    }

    public var description: String { "\(name)-\(height)x\(width)x\(channels)" + (trainLimit.map { "-n\($0)" } ?? "") }
    public var inputDim: Int { height * width * channels }
    /// The same dataset with its whole training split.
    public var whole: DatasetName { DatasetName(name: name, height: height, width: width, channels: channels) }
}
