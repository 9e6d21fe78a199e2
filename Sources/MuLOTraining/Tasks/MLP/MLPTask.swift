/// The MLP task: a μP or SP MLP (`mumlp-…` / `mlp-…`) trained on an image dataset.
public struct MLPTask: Task {
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

    public var config: MLPConfig { model.config }
    public var parametrization: Parametrization { config.parametrization }
    public var data: any TaskData { dataset }
    public var lossClipBound: Float { classificationLossBound(classes: config.classes) }

    public func initialize(key: RNGKey) -> [Tensor] { config.initialize(key: key) }

    public func makeWorkspace(batchSize: Int) -> TaskWorkspace { model.makeWorkspace(batchSize: batchSize) }

    public func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float {
        model.lossAndGradient(params, batch: batch, grads: &grads, workspace: workspace)
    }

    public func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float) {
        model.evaluate(params, batch: batch, workspace: workspace)
    }

    /// Every layer's pre-activation.
    public func activations(_ params: [Tensor], batch: Batch) -> [[Float]] { model.preactivations(params, batch: batch) }
}
