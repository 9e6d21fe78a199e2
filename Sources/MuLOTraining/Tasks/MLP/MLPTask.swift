/// The MLP task: a μP or SP MLP (`mumlp-…` / `mlp-…`) trained on an image dataset.
public struct MLPTask: ModelTask {
    public let name: String
    public let model: MLPModel
    public let dataset: ImageDataset
    public let parameterSpecs: [ParameterSpec]

    public init(name: String, config: MLPConfig, dataset: ImageDataset) {
        precondition(config.inputDim == dataset.inputDim && config.classes == dataset.classes)
        self.name = name
        self.model = MLPModel(config: config)
        self.dataset = dataset
        self.parameterSpecs = config.parameterSpecs
    }

    public var parametrization: Parametrization { config.parametrization }
    public var data: any TaskData { dataset }
    public var lossClipBound: Float { classificationLossBound(classes: config.classes) }

    public func initialize(key: RNGKey) -> [Tensor] { config.initialize(key: key) }
}
