import Foundation

/// Finds and loads datasets by name, once per process: tasks that share a dataset share its memory.
public enum DatasetLoader {
    /// Where Debian's `dataset-fashion-mnist` package installs its files.
    public static let fashionMNISTDefaultDir = "/usr/share/datasets/fashion-mnist"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: ImageDataset] = [:]

    /// Loads `name` (cached). HDF5 datasets are looked up as `<dataDir>/<name>.h5`, where
    /// dataDir is the argument, else `$MULO_DATA_DIR`, else `./data`.
    public static func load(_ name: DatasetName, dataDir: String? = nil) throws -> ImageDataset {
        // A training subset shares the whole dataset's memory (loaded, and cached, first).
        let whole = name.trainLimit == nil ? nil : try load(name.whole, dataDir: dataDir)
        let key = "\(name)|\(dataDir ?? "")"
        lock.lock()
        defer { lock.unlock() }
        if let hit = cache[key] { return hit }
        let ds = try whole.map { try $0.limitingTraining(to: name.trainLimit!) } ?? loadUncached(name, dataDir: dataDir)
        cache[key] = ds
        return ds
    }

    static func loadUncached(_ name: DatasetName, dataDir: String?) throws -> ImageDataset {
        switch name.name {
        case "fashionmnist":
            guard name.height == 28, name.width == 28, name.channels == 1 else {
                throw DataError("fashionmnist exists only as fashionmnist-28x28x1, not \(name)")
            }
            let dir = ProcessInfo.processInfo.environment["MULO_FASHION_MNIST_DIR"] ?? fashionMNISTDefaultDir
            return try loadFashionMNIST(directory: dir)
        case "synthetic":
            return try SyntheticDataset.make(name)
        default:
            // HDF5 image sets: the built-in names with their class counts, or your own under any
            // name, the class count from its `classes` attribute or its largest label.
            let path = dataFile("\(name).h5", dataDir: dataDir)
            let builtIn = ["imagenet": 1000, "cifar10": 10, "food101": 101][name.name]
            guard FileManager.default.fileExists(atPath: path), builtIn != nil || name.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw builtIn != nil
                    ? DataError("dataset \(name) is read from an HDF5 file with `images` [N,H,W,C] and `labels` [N]; expected it at \(path) (set --data-dir or MULO_DATA_DIR)")
                    : DataError("""
                        unknown dataset '\(name.name)': not one of \(DatasetName.forms), and no HDF5 image set \(path) \
                        (your own: `images` [N,H,W,C] uint8 or float32 and `labels` [N] in <data-dir>/<name>-<H>x<W>x<C>.h5, \
                        name of letters, digits and _; set --data-dir or MULO_DATA_DIR)
                        """)
            }
            let prep: Preprocessing = name.name == "imagenet" ? .imagenet : .unitScale(channels: name.channels)
            // ImageNet keeps the first 80% for training and 97–99% of train for validation (METHOD §5).
            let bounds = name.name == "imagenet" ? (0...0.8, 0.97...0.98, 0.98...0.99) : (0...0.8, 0.8...0.9, 0.9...1)
            return try HDF5ImageDataset.load(path: path, name: name, classes: builtIn, preprocessing: prep, splitBounds: bounds)
        }
    }

    /// `<dataDir>/<file>`, where dataDir is the argument, else `$MULO_DATA_DIR`, else `./data`.
    static func dataFile(_ file: String, dataDir: String?) -> String {
        let dir = dataDir ?? ProcessInfo.processInfo.environment["MULO_DATA_DIR"] ?? "data"
        return (dir as NSString).appendingPathComponent(file)
    }
}

extension DatasetLoader {
    /// Fashion-MNIST from the IDX files in `directory`, uncached.
    public static func loadFashionMNIST(directory: String) throws -> ImageDataset {
        func file(_ f: String) throws -> String {
            let p = (directory as NSString).appendingPathComponent(f)
            guard FileManager.default.fileExists(atPath: p) else {
                throw DataError("Fashion-MNIST file \(p) is missing: install Debian's package with `apt-get install dataset-fashion-mnist` (or set MULO_FASHION_MNIST_DIR)")
            }
            return p
        }
        func part(_ prefix: String) throws -> ImageArray {
            let images = try IDXFile.load(try file("\(prefix)-images-idx3-ubyte.gz"), expectRank: 3)
            let labels = try IDXFile.load(try file("\(prefix)-labels-idx1-ubyte.gz"), expectRank: 1)
            guard images.dims[1] == 28, images.dims[2] == 28 else {
                throw DataError("\(directory): \(prefix) images are \(images.dims[1])x\(images.dims[2]), expected 28x28")
            }
            guard images.dims[0] == labels.dims[0] else {
                throw DataError("\(directory): \(prefix) has \(images.dims[0]) images but \(labels.dims[0]) labels")
            }
            return ImageArray(count: images.dims[0], inputDim: 784, pixels: .bytes(images.bytes),
                              labels: labels.bytes.map { Int32($0) })
        }
        return try ImageDataset(name: "fashionmnist-28x28x1", height: 28, width: 28, channels: 1, classes: 10,
                                preprocessing: .unitScale(channels: 1), train: try part("train"), test: try part("t10k"))
    }
}

/// A generic HDF5 image dataset: `images` uint8 or float32 [N,H,W,C] and `labels` [N] (int32,
/// int64 or uint8); optional `test_images` / `test_labels`. uint8 pixels get the dataset's
/// preprocessing; float32 pixels are used as stored.
enum HDF5ImageDataset {
    /// `classes` nil: the file's `classes` attribute, else the largest label + 1.
    static func load(path: String, name: DatasetName, classes: Int?, preprocessing: Preprocessing,
                     splitBounds: (ClosedRange<Double>, ClosedRange<Double>, ClosedRange<Double>)) throws -> ImageDataset {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        var floatPixels = false
        func part(_ imagesPath: String, _ labelsPath: String) throws -> ImageArray {
            let shape = try file.shape(imagesPath)
            guard shape.count == 4, Array(shape[1...]) == [name.height, name.width, name.channels] else {
                throw DataError("\(path): \(imagesPath) has shape \(shape), expected [N, \(name.height), \(name.width), \(name.channels)]")
            }
            // One label per image, checked before either is read.
            let labelShape = try file.shape(labelsPath)
            guard labelShape == [shape[0]] else {
                throw DataError("\(path): \(labelsPath) has shape \(labelShape), expected [\(shape[0])] (one label per image)")
            }
            let pixels: ImageArray.Pixels
            if try file.holds(imagesPath, UInt8.self) {
                pixels = .bytes(try file.read(imagesPath, as: UInt8.self).values)
            } else {
                pixels = .floats(try file.read(imagesPath, as: Float.self).values)
                floatPixels = true
            }
            return ImageArray(count: shape[0], inputDim: name.inputDim, pixels: pixels,
                              labels: try readLabels(file, labelsPath))
        }
        let train = try part("images", "labels")
        let test = file.exists("test_images") ? try part("test_images", "test_labels") : nil
        let largest = max(train.labels.max() ?? 0, test?.labels.max() ?? 0)
        let counted = try classes ?? (file.hasAttribute("classes") ? try file.attributeInt("classes") : Int(largest) + 1)
        guard counted >= 2, counted <= 1_000_000 else {
            throw DataError("\(path): \(counted) classes (its `classes` attribute or largest label + 1); a classification set needs 2…1,000,000")
        }
        return try ImageDataset(name: name.description, height: name.height, width: name.width, channels: name.channels,
                                classes: counted,
                                preprocessing: floatPixels ? .identity(channels: name.channels) : preprocessing,
                                train: train, test: test, splitBounds: splitBounds)
    }

    static func readLabels(_ file: HDF5File, _ p: String) throws -> [Int32] {
        if try file.holds(p, Int32.self) { return try file.read(p, as: Int32.self).values }
        if try file.holds(p, Int64.self) {
            let v = try file.read(p, as: Int64.self)
            // A label beyond int32 is an error, not another class (the range check follows in ImageDataset).
            return try v.values.map { x in
                guard let l = Int32(exactly: x) else { throw DataError("\(file.path): \(p) holds label \(x), outside int32") }
                return l
            }
        }
        return try file.read(p, as: UInt8.self).values.map { Int32($0) }
    }
}

/// A small dataset generated in memory, for tests and demos without any files: 10 classes of
/// Gaussian clusters around random prototypes, fixed by the dataset name alone.
enum SyntheticDataset {
    static func make(_ name: DatasetName) throws -> ImageDataset {
        let d = name.inputDim, classes = 10
        let key = RNGKey(seed: 0x5EED_DA7A)
        var prototypes = [Float](repeating: 0, count: classes * d)
        key.split(0).fillNormal(&prototypes)
        func part(_ n: Int, _ stream: UInt64) -> ImageArray {
            let k = key.split(stream)
            var noise = [Float](repeating: 0, count: n * d)
            k.split(0).fillNormal(&noise, std: 1.5)
            let labels = (0..<n).map { Int32(k.split(1).integer(below: classes, at: UInt64($0))) }
            for i in 0..<n {
                let c = Int(labels[i])
                for j in 0..<d { noise[i * d + j] += prototypes[c * d + j] }
            }
            return ImageArray(count: n, inputDim: d, pixels: .floats(noise), labels: labels)
        }
        return try ImageDataset(name: name.description, height: name.height, width: name.width,
                                channels: name.channels, classes: classes,
                                preprocessing: .identity(channels: name.channels),
                                train: part(4000, 1), test: part(1000, 2))
    }
}
