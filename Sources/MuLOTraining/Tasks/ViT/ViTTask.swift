/// The ViT task: an SP or μP ViT trained on an image dataset with the mean cross-entropy.
public struct ViTTask: ModelTask {
    public let name: String
    public let model: ViTModel
    public let dataset: ImageDataset
    public let parameterSpecs: [ParameterSpec]

    public init(name: String, model: ViTModel, dataset: ImageDataset) {
        (self.name, self.model, self.dataset, parameterSpecs) = (name, model, dataset, model.config.parameterSpecs)
    }

    public var parametrization: Parametrization { config.parametrization }
    public var data: any TaskData { dataset }
    public var lossClipBound: Float { classificationLossBound(classes: config.classes) }
    /// 16384 tokens per pass.
    public var evaluationChunk: Int { max(1, 16_384 / config.tokens) }
    /// §4.2: MAC = B·(N·p·W + D·(T·12W² + 2·T²·W) + W·C), the head on the class token only.
    public func trainingFlops(batchSize: Int) -> Double {
        let c = config
        let (B, N, p, W, D, T, C) = (Double(batchSize), Double(c.patches), Double(c.patchDim), Double(c.width), Double(c.depth),
                                     Double(c.tokens), Double(c.classes))
        return 6 * B * (N * p * W + D * (T * 12 * W * W + 2 * T * T * W) + W * C)
    }

    public func initialize(key: RNGKey) -> [Tensor] { config.initialize(key: key) }
}
