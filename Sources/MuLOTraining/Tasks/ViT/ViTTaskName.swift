/// ViT task names (TRANSFORMERS §1, §3): `{vit|muvit}-w{W}-d{D}[-h{H}][-p{P}][-corrected]_{dataset}`, e.g.
/// `muvit-w128-d3_fashionmnist-28x28x1`. Without `-p` the reference's layout: patch 16 on the
/// image zero-padded to the next multiple of 16 (Fashion-MNIST 28 → 32 with a 2-pixel border,
/// 4 patches + the class token); `-p{P}` cuts the unpadded image into P×P patches and must divide
/// it. `-corrected` (μP only) uses the corrected μP instead of the reference's (§7 items 1, 3).
public struct ViTTaskName: TaskSpec, Hashable {
    public static let family = TaskRegistry.Family(prefixes: ["vit", "muvit"], forms: validForms) { try ViTTaskName(parsing: $0) }

    public static let validForms = """
        vit-w{W}-d{D}[-h{H}][-p{P}]_{dataset} (SP) or muvit-…[-corrected]_{dataset} (μP), P dividing the image, \
        e.g. muvit-w128-d3_fashionmnist-28x28x1
        """

    public let parametrization: Parametrization
    public let width: Int
    public let depth: Int
    public let explicitHeads: Int?
    public let explicitPatch: Int?
    public let corrected: Bool
    public let dataset: DatasetName

    public init(parametrization: Parametrization, width: Int, depth: Int, heads: Int? = nil, patch: Int? = nil,
                corrected: Bool = false, dataset: DatasetName) {
        (self.parametrization, self.width, self.depth, self.explicitHeads) = (parametrization, width, depth, heads)
        (self.explicitPatch, self.corrected, self.dataset) = (patch, corrected, dataset)
    }

    /// The reference registry's heads where it has the width (§1), else heads of 64 units.
    public static func defaultHeads(width: Int) -> Int {
        [64: 4, 128: 2, 192: 3, 384: 6, 1024: 8, 1280: 16, 2048: 16][width] ?? max(1, width / 64)
    }

    public var heads: Int { explicitHeads ?? Self.defaultHeads(width: width) }
    public var patch: Int { explicitPatch ?? 16 }
    /// The zero border of the reference layout; none with an explicit patch.
    var border: (y: Int, x: Int) {
        guard explicitPatch == nil else { return (0, 0) }
        func pad(_ n: Int) -> Int { ((n + 15) / 16 * 16 - n) / 2 }
        return (pad(dataset.height), pad(dataset.width))
    }

    public init(parsing text: String) throws {
        let n = try TaskNameParts(text, sp: "vit", mu: "muvit", form: "{model}-w{W}-d{D}[-h{H}][-p{P}][-corrected]")
        var heads: Int?, patch: Int?, corrected = false
        for part in n.options {
            if part == "corrected" {
                guard n.parametrization == .mup else { throw n.error("-corrected applies to μP (muvit) only") }
                corrected = true
            } else if part.first == "h" {
                heads = try n.number(part, "h", "heads")
            } else {
                patch = try n.number(part, "p", "patch size")
            }
        }
        let ds: DatasetName
        do { ds = try DatasetName(parsing: String(n.data)) } catch let e as DataError { throw n.error(e.message) }
        let spec = ViTTaskName(parametrization: n.parametrization, width: n.width, depth: n.depth, heads: heads, patch: patch,
                               corrected: corrected, dataset: ds)
        guard n.width % spec.heads == 0 else { throw n.error("width \(n.width) is not divisible by \(spec.heads) heads") }
        if let patch {
            guard ds.height % patch == 0, ds.width % patch == 0 else {
                throw n.error("patch \(patch) does not divide the \(ds.height)×\(ds.width) image")
            }
        }
        self = spec
    }

    public var description: String {
        var model = "\(parametrization == .mup ? "mu" : "")vit-w\(width)-d\(depth)"
        if let explicitHeads { model += "-h\(explicitHeads)" }
        if let explicitPatch { model += "-p\(explicitPatch)" }
        if corrected { model += "-corrected" }
        return "\(model)_\(dataset)"
    }

    public func with(width: Int, depth: Int, parametrization: Parametrization) -> any TaskSpec {
        ViTTaskName(parametrization: parametrization, width: width, depth: depth, heads: explicitHeads, patch: explicitPatch,
                    corrected: corrected && parametrization == .mup, dataset: dataset)
    }

    public func buildTask(dataDir: String?) throws -> any Task {
        guard explicitPatch != nil || (border.y == border.x && (dataset.height + 2 * border.y) % 16 == 0) else {
            throw TaskError("task \(self): the reference layout pads square images to a multiple of 16; give -p{P} for \(dataset)")
        }
        let ds = try DatasetLoader.load(dataset, dataDir: dataDir)
        let config = ViTConfig(width: width, depth: depth, heads: heads, imageHeight: ds.height + 2 * border.y,
                               imageWidth: ds.width + 2 * border.x, channels: ds.channels, patch: patch, border: border.y,
                               classes: ds.classes, parametrization: parametrization, correctedMuP: corrected)
        return ViTTask(name: description, model: ViTModel(config: config), dataset: ds)
    }
}
