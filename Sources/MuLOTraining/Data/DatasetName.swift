/// `{name}-{H}x{W}x{C}` (METHOD §5), e.g. `fashionmnist-28x28x1`.
public struct DatasetName: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let height: Int, width: Int, channels: Int

    public static let forms = "fashionmnist-28x28x1, synthetic-{H}x{W}x{C}, cifar10-32x32x3, food101-32x32x3, imagenet-{32|64|128|224}x…x3 or any <name>-{H}x{W}x{C} (HDF5 files)"

    public init(name: String, height: Int, width: Int, channels: Int) {
        (self.name, self.height, self.width, self.channels) = (name, height, width, channels)
    }

    public init(parsing text: String) throws {
        guard let dash = text.lastIndex(of: "-") else {
            throw DataError("dataset '\(text)' is not of the form {name}-{H}x{W}x{C}; known: \(Self.forms)")
        }
        let dims = text[text.index(after: dash)...].split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard dims.count == 3, let h = dims[0], let w = dims[1], let c = dims[2], h > 0, w > 0, c > 0 else {
            throw DataError("dataset '\(text)' is not of the form {name}-{H}x{W}x{C} with positive sizes; known: \(Self.forms)")
        }
        self.init(name: String(text[..<dash]), height: h, width: w, channels: c)
    }

    public var description: String { "\(name)-\(height)x\(width)x\(channels)" }
    public var inputDim: Int { height * width * channels }
}
