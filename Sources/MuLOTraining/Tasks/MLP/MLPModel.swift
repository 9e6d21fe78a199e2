/// Activations kept between forward and backward for one batch size, allocated once.
public final class MLPWorkspace: TaskWorkspace {
    let batchSize: Int
    /// acts[l] is layer l's output [batch, sizes[l+1]]: ReLU output for hidden layers, logits last.
    let acts: [UnsafeMutablePointer<Float>]
    /// Gradients w.r.t. each layer output, the same shapes.
    let deltas: [UnsafeMutablePointer<Float>]
    private let counts: [Int]

    init(config: MLPConfig, batchSize: Int) {
        self.batchSize = batchSize
        counts = config.sizes.dropFirst().map { batchSize * $0 }
        acts = counts.map { .allocate(capacity: $0) }
        deltas = counts.map { .allocate(capacity: $0) }
    }

    deinit {
        acts.forEach { $0.deallocate() }
        deltas.forEach { $0.deallocate() }
    }
}

/// The MLP's mathematics, independent of any dataset: forward, mean softmax cross-entropy and
/// hand-written backprop, with the μP multipliers of METHOD §3.2.
public struct MLPModel: TaskModel {
    public let config: MLPConfig

    public init(config: MLPConfig) { self.config = config }

    public func makeWorkspace(batchSize: Int) -> TaskWorkspace { MLPWorkspace(config: config, batchSize: batchSize) }

    public func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float {
        let ws = unsafeDowncast(workspace, to: MLPWorkspace.self)
        forward(params, batch: batch, ws)
        let c = config.classes, b = batch.size, L = config.layerCount
        let loss = batch.labels.withUnsafeBufferPointer { y in
            MLPKernels.softmaxCrossEntropy(ws.acts[L - 1], labels: y.baseAddress!, rows: b, classes: c,
                                        dlogits: ws.deltas[L - 1]).loss
        }
        backward(params, batch: batch, grads: &grads, ws)
        return loss
    }

    public func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float) {
        let ws = unsafeDowncast(workspace, to: MLPWorkspace.self)
        forward(params, batch: batch, ws)
        let r = batch.labels.withUnsafeBufferPointer { y in
            MLPKernels.softmaxCrossEntropy(ws.acts[config.layerCount - 1], labels: y.baseAddress!, rows: batch.size,
                                        classes: config.classes, dlogits: nil)
        }
        return (r.loss, Float(r.correct) / Float(batch.size))
    }

    /// The logits of the last forward pass, [batch, classes].
    public func logits(_ workspace: TaskWorkspace) -> [Float] {
        let ws = unsafeDowncast(workspace, to: MLPWorkspace.self)
        return Array(UnsafeBufferPointer(start: ws.acts[config.layerCount - 1], count: ws.batchSize * config.classes))
    }

    /// z_l = mult_l·(h_{l−1}·W_l + b_l), ReLU on all but the last layer.
    func forward(_ params: [Tensor], batch: Batch, _ ws: MLPWorkspace) {
        precondition(batch.size <= ws.batchSize && batch.inputDim == config.inputDim,
                     "batch [\(batch.size), \(batch.inputDim)] does not fit workspace [\(ws.batchSize), \(config.inputDim)]")
        let sizes = config.sizes, b = batch.size, L = config.layerCount
        for l in 0..<L {
            let (fanIn, fanOut) = (sizes[l], sizes[l + 1])
            let mult = config.multiplier(l)
            let z = ws.acts[l]
            withLayerInput(l, batch, ws) { h in
                params[2 * l].data.withUnsafeBufferPointer { w in
                    params[2 * l + 1].data.withUnsafeBufferPointer { bias in
                        MLPKernels.broadcastRows(z, rows: b, cols: fanOut, bias: bias.baseAddress!, scale: mult)
                        BLAS.sgemm(m: b, n: fanOut, k: fanIn, alpha: mult, h, lda: fanIn,
                                   w.baseAddress!, ldb: fanOut, beta: 1, z, ldc: fanOut)
                    }
                }
            }
            if l < L - 1 { MLPKernels.reluInPlace(z, count: b * fanOut) }
        }
    }

    /// Backprop from ws.deltas[L−1] = d(loss)/d(logits).
    func backward(_ params: [Tensor], batch: Batch, grads: inout [Tensor], _ ws: MLPWorkspace) {
        let sizes = config.sizes, b = batch.size
        for l in stride(from: config.layerCount - 1, through: 0, by: -1) {
            let (fanIn, fanOut) = (sizes[l], sizes[l + 1])
            let mult = config.multiplier(l)
            let dz = ws.deltas[l]
            withLayerInput(l, batch, ws) { h in
                grads[2 * l].data.withUnsafeMutableBufferPointer { dw in
                    BLAS.sgemm(transA: true, m: fanIn, n: fanOut, k: b, alpha: mult, h, lda: fanIn,
                               dz, ldb: fanOut, beta: 0, dw.baseAddress!, ldc: fanOut)
                }
            }
            grads[2 * l + 1].data.withUnsafeMutableBufferPointer { db in
                MLPKernels.columnSums(dz, rows: b, cols: fanOut, scale: mult, into: db.baseAddress!)
            }
            guard l > 0 else { break }
            let dh = ws.deltas[l - 1]
            params[2 * l].data.withUnsafeBufferPointer { w in
                BLAS.sgemm(transB: true, m: b, n: fanIn, k: fanOut, alpha: mult, dz, lda: fanOut,
                           w.baseAddress!, ldb: fanOut, beta: 0, dh, ldc: fanIn)
            }
            MLPKernels.reluBackward(dh, activations: ws.acts[l - 1], count: b * fanIn)
        }
    }

    /// The input of layer l: the batch for layer 0, else the previous layer's activations.
    private func withLayerInput(_ l: Int, _ batch: Batch, _ ws: MLPWorkspace,
                                _ body: (UnsafePointer<Float>) -> Void) {
        if l == 0 {
            batch.inputs.withUnsafeBufferPointer { body($0.baseAddress!) }
        } else {
            body(ws.acts[l - 1])
        }
    }
}

extension MLPModel {
    /// The coordinate check's layers: every layer's pre-activation.
    public func activations(_ params: [Tensor], batch: Batch) -> [[Float]] { preactivations(params, batch: batch) }

    /// Every layer's pre-activation z_l = mult_l·(h_{l−1}·W_l + b_l) on `batch` (before ReLU;
    /// the logits last), for the coordinate check.
    public func preactivations(_ params: [Tensor], batch: Batch) -> [[Float]] {
        let ws = unsafeDowncast(makeWorkspace(batchSize: batch.size), to: MLPWorkspace.self)
        forward(params, batch: batch, ws)
        // forward() keeps post-ReLU activations; recompute each layer's input → pre-activation.
        let sizes = config.sizes, b = batch.size
        return (0..<config.layerCount).map { l in
            var z = [Float](repeating: 0, count: b * sizes[l + 1])
            let mult = config.multiplier(l)
            z.withUnsafeMutableBufferPointer { zp in
                params[2 * l].data.withUnsafeBufferPointer { w in
                    params[2 * l + 1].data.withUnsafeBufferPointer { bias in
                        let input = { (body: (UnsafePointer<Float>) -> Void) in
                            if l == 0 { batch.inputs.withUnsafeBufferPointer { body($0.baseAddress!) } } else { body(ws.acts[l - 1]) }
                        }
                        input { h in
                            MLPKernels.broadcastRows(zp.baseAddress!, rows: b, cols: sizes[l + 1], bias: bias.baseAddress!, scale: mult)
                            BLAS.sgemm(m: b, n: sizes[l + 1], k: sizes[l], alpha: mult, h, lda: sizes[l], w.baseAddress!,
                                       ldb: sizes[l + 1], beta: 1, zp.baseAddress!, ldc: sizes[l + 1])
                        }
                    }
                }
            }
            return z
        }
    }
}
