/// MLP task names (METHOD §5): `{mlp|mumlp}-w{W}-d{D}_{dataset}`, e.g. `mumlp-w128-d3_fashionmnist-28x28x1`.
public struct MLPTaskName: TaskSpec, Hashable {
    /// The registry's entry for MLPs.
    public static let family = TaskRegistry.Family(prefixes: ["mlp", "mumlp"], forms: validForms) { try MLPTaskName(parsing: $0) }

    public let parametrization: Parametrization
    public let width: Int
    public let depth: Int
    public let dataset: DatasetName

    public static let validForms = """
        mlp-w{W}-d{D}_{dataset} (standard parametrization) or \
        mumlp-w{W}-d{D}_{dataset} (μP), W ≥ 1, D ≥ 1, dataset {name}-{H}x{W}x{C}, \
        e.g. mumlp-w128-d3_fashionmnist-28x28x1
        """

    public init(parametrization: Parametrization, width: Int, depth: Int, dataset: DatasetName) {
        (self.parametrization, self.width, self.depth, self.dataset) = (parametrization, width, depth, dataset)
    }

    public init(parsing text: String) throws {
        let n = try TaskNameParts(text, sp: "mlp", mu: "mumlp", form: "{model}-w{W}-d{D}")
        guard n.options.isEmpty else { throw n.error("model part must be {model}-w{W}-d{D}") }
        let ds: DatasetName
        do { ds = try DatasetName(parsing: String(n.data)) } catch let e as DataError { throw n.error(e.message) }
        self.init(parametrization: n.parametrization, width: n.width, depth: n.depth, dataset: ds)
    }

    public var description: String {
        "\(parametrization == .mup ? "mumlp" : "mlp")-w\(width)-d\(depth)_\(dataset)"
    }

    public func with(width: Int, depth: Int, parametrization: Parametrization) -> any TaskSpec {
        MLPTaskName(parametrization: parametrization, width: width, depth: depth, dataset: dataset)
    }

    public func buildTask(dataDir: String?) throws -> any Task { try makeMLPTask(dataDir: dataDir) }

    /// Builds the task, loading its dataset.
    public func makeMLPTask(dataDir: String? = nil) throws -> MLPTask {
        let ds = try DatasetLoader.load(dataset, dataDir: dataDir)
        let config = MLPConfig(inputDim: ds.inputDim, hiddenWidths: Array(repeating: width, count: depth),
                               classes: ds.classes, parametrization: parametrization)
        return MLPTask(name: description, config: config, dataset: ds)
    }
}
