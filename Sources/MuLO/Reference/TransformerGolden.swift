import Foundation

/// Checks the transformer tasks against `shared/golden/transformer_tasks.h5` (its README):
/// logits and loss within 1e-5 absolute, each gradient within 1e-4·max|g_ref| + 1e-7 absolute
/// (the README's suggestion: some gradients are exactly 0 in exact arithmetic and stored as
/// rounding noise), and the μP step scales exactly.
extension ReferenceChecker {
    public static let languageModelGroups = ["lm_sp", "lm_mu", "lm_sp_attn"]
    public static let visionGroups = ["vit_sp", "vit_mu", "vit_sp_p7", "vit_mu_p7"]

    static func parametrization(_ file: HDF5File, _ g: String) throws -> Parametrization {
        let p = try file.attributeString("parametrization", on: g)
        guard let parametrization = Parametrization(rawValue: p) else {
            throw HDF5Error(file: file.path, object: g, message: "parametrization '\(p)' is neither mu nor sp")
        }
        return parametrization
    }

    /// One golden language model: the config from the group's attributes, parameters, batch, and every expected output.
    public static func checkLanguageModel(_ file: HDF5File, group g: String) throws -> [ReferenceCheck] {
        let config = TransformerLMConfig(width: try file.attributeInt("width", on: g), depth: try file.attributeInt("depth", on: g),
                                         heads: try file.attributeInt("heads", on: g), vocab: try file.attributeInt("vocab", on: g),
                                         seqLen: try file.attributeInt("seq_len", on: g), parametrization: try parametrization(file, g),
                                         dropout: Float(try file.attributeDouble("dropout_rate", on: g)))
        let (shape, ids) = try file.read("\(g)/inputs", as: Int32.self)
        let targets = try file.read("\(g)/labels", as: Int32.self, expectShape: shape).values
        guard shape.count == 2, shape[1] == config.seqLen else {
            throw HDF5Error(file: file.path, object: "\(g)/inputs", message: "shape \(shape), expected [B, \(config.seqLen)]")
        }
        let model = TransformerLMModel(config: config)
        let batch = Batch(tokens: ids, targets: targets, sequenceLength: config.seqLen)
        return try checkModel(file, group: g, specs: config.parameterSpecs, logitsShape: shape + [config.vocab]) { params, grads in
            let ws = model.makeWorkspace(batchSize: batch.size)
            let loss = model.lossAndGradient(params, batch: batch, grads: &grads, workspace: ws)
            return (loss, model.logits(ws, batchSize: batch.size))
        }
    }

    /// One golden ViT (images given at the model's input size, so no border).
    public static func checkViT(_ file: HDF5File, group g: String) throws -> [ReferenceCheck] {
        let image = try file.attributeInts("image_shape", on: g)
        guard image.count == 3 else { throw HDF5Error(file: file.path, object: g, message: "image_shape \(image) is not [H, W, C]") }
        let config = ViTConfig(width: try file.attributeInt("width", on: g), depth: try file.attributeInt("depth", on: g),
                               heads: try file.attributeInt("heads", on: g), imageHeight: image[0], imageWidth: image[1],
                               channels: image[2], patch: try file.attributeInts("patch", on: g)[0],
                               classes: try file.attributeInt("classes", on: g), parametrization: try parametrization(file, g))
        let inputs = try file.readTensor("\(g)/inputs")
        let labels = try file.read("\(g)/labels", as: Int32.self).values
        guard inputs.shape == [labels.count] + image else {
            throw HDF5Error(file: file.path, object: "\(g)/inputs", message: "shape \(inputs.shape), expected [\(labels.count)] + \(image)")
        }
        let model = ViTModel(config: config)
        let batch = Batch(inputs: inputs.data, labels: labels, inputDim: image.reduce(1, *))
        return try checkModel(file, group: g, specs: config.parameterSpecs, logitsShape: [labels.count, config.classes]) { params, grads in
            let ws = model.makeWorkspace(batchSize: batch.size)
            let loss = model.lossAndGradient(params, batch: batch, grads: &grads, workspace: ws)
            return (loss, model.logits(ws, batchSize: batch.size))
        }
    }

    /// Reads the group's parameters (names and shapes checked against `specs`), runs `run`, and
    /// compares logits, loss, every gradient and every μP scale.
    static func checkModel(_ file: HDF5File, group g: String, specs: [ParameterSpec], logitsShape: [Int],
                           run: ([Tensor], inout [Tensor]) -> (loss: Float, logits: [Float])) throws -> [ReferenceCheck] {
        let names = try file.attributeStrings("param_names", on: g)
        guard names == specs.map(\.name) else {
            throw HDF5Error(file: file.path, object: g, message: "parameters \(names) are not MuLO's \(specs.map(\.name))")
        }
        let params = try specs.map { try file.readTensor("\(g)/params/\($0.name)", expectShape: $0.shape) }
        var grads = specs.map { Tensor(zeros: $0.shape) }
        let (loss, logits) = run(params, &grads)
        var checks = [
            ReferenceCheck(name: "\(g)/logits", ours: logits,
                           reference: try file.readTensor("\(g)/expected/logits", expectShape: logitsShape).data,
                           tolerance: taskTolerance, absolute: true),
            ReferenceCheck(name: "\(g)/loss", ours: [loss], reference: [try file.readScalar("\(g)/expected/loss", as: Float.self)],
                           tolerance: taskTolerance, absolute: true),
        ]
        for (spec, grad) in zip(specs, grads) {
            let ref = try file.readTensor("\(g)/expected/grads/\(spec.name)", expectShape: spec.shape).data
            let scale = ref.reduce(0) { max($0, abs($1)) }
            checks.append(ReferenceCheck(name: "\(g)/grads/\(spec.name)", ours: grad.data, reference: ref,
                                         tolerance: 1e-4 * scale + 1e-7, absolute: true))
        }
        for spec in specs {
            checks.append(ReferenceCheck(name: "\(g)/lr_scale/\(spec.name)", ours: [spec.updateScale],
                                         reference: [try file.readScalar("\(g)/lr_scale/\(spec.name)", as: Float.self)],
                                         tolerance: 0, absolute: true))
        }
        return checks
    }
}
