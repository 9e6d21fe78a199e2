import Foundation

/// Activations of one batch size kept between the forward and backward passes, allocated once.
final class TransformerLMWorkspace: TaskWorkspace {
    let batchSize: Int
    let blocks: BlockWorkspace
    let h, lnfXhat, lnfRstd, lnfOut, logits, dh, dln, dlogits: UnsafeMutablePointer<Float>

    init(config c: TransformerLMConfig, batchSize: Int) {
        self.batchSize = batchSize
        blocks = BlockWorkspace(c.blocks, batchSize: batchSize)
        let n = batchSize * c.seqLen, a = blocks.arena
        (h, lnfXhat, lnfRstd, lnfOut) = (a.make(n * c.width), a.make(n * c.width), a.make(n), a.make(n * c.width))
        (logits, dh, dln, dlogits) = (a.make(n * c.vocab), a.make(n * c.width), a.make(n * c.width), a.make(n * c.vocab))
    }
}

/// The language model's mathematics (TRANSFORMERS §2): token embedding without positional
/// encoding, the shared pre-LN blocks, a final LayerNorm and the readout, with the masked
/// token-level cross-entropy and hand-written backprop.
public struct TransformerLMModel: TaskModel {
    public let config: TransformerLMConfig

    public init(config: TransformerLMConfig) { self.config = config }

    public func makeWorkspace(batchSize: Int) -> TaskWorkspace { workspace(batchSize: batchSize) }

    func workspace(batchSize: Int) -> TransformerLMWorkspace { TransformerLMWorkspace(config: config, batchSize: batchSize) }

    /// Logits (× the μP output multiplier) of every position into ws.logits; dropout masks from
    /// `noise`. `trace` sees the embedding output, each block's branch outputs and the logits —
    /// the coordinate check's layers.
    func forward(_ P: [UnsafePointer<Float>], ids: UnsafePointer<Int32>, batchSize B: Int, noise: RNGKey,
                 _ ws: TransformerLMWorkspace, trace: ((UnsafePointer<Float>, Int) -> Void)? = nil) {
        let c = config, n = B * c.seqLen, W = c.width
        for r in 0..<n { (ws.h + r * W).update(from: P[0] + Int(ids[r]) * W, count: W) }
        trace?(ws.h, n * W)
        c.blocks.forward(P, ids: ids, batch: B, noise: noise, h: ws.h, ws.blocks, trace: trace)
        TransformerKernels.layerNorm(ws.h, rows: n, cols: W, gamma: P[c.finalNorm], beta: P[c.finalNorm + 1], eps: c.blocks.eps,
                                     variance: c.blocks.variance, xhat: ws.lnfXhat, rstd: ws.lnfRstd, y: ws.lnfOut)
        Dense.forward(ws.lnfOut, P[c.readout], P[c.readout + 1], ws.logits, rows: n, fanIn: W, fanOut: c.vocab,
                      scale: c.outputMultiplier)
        trace?(ws.logits, n * c.vocab)
    }

    /// Backprop from ws.dlogits = d(loss)/d(logits); writes every gradient.
    func backward(_ P: [UnsafePointer<Float>], ids: UnsafePointer<Int32>, batchSize B: Int,
                  grads G: [UnsafeMutablePointer<Float>], _ ws: TransformerLMWorkspace) {
        let c = config, n = B * c.seqLen, W = c.width
        Dense.backward(ws.dlogits, input: ws.lnfOut, P[c.readout], gw: G[c.readout], gb: G[c.readout + 1], dInput: ws.dln,
                       rows: n, fanIn: W, fanOut: c.vocab, scale: c.outputMultiplier)
        ws.dh.update(repeating: 0, count: n * W)
        TransformerKernels.layerNormBackward(ws.dln, xhat: ws.lnfXhat, rstd: ws.lnfRstd, gamma: P[c.finalNorm], rows: n, cols: W,
                                             dgamma: G[c.finalNorm], dbeta: G[c.finalNorm + 1], dx: ws.dh)
        c.blocks.backward(P, ids: ids, batch: B, grads: G, dh: ws.dh, ws.blocks)
        // The embedding's gradient is a scatter-add of the rows, in position order.
        G[0].update(repeating: 0, count: c.vocab * W)
        for r in 0..<n { TransformerKernels.add(ws.dh + r * W, into: G[0] + Int(ids[r]) * W, count: W) }
    }
}

extension TransformerLMModel {
    public func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float {
        let ws = unsafeDowncast(workspace, to: TransformerLMWorkspace.self)
        return withPointers(params) { P in
            batch.tokens.withUnsafeBufferPointer { ids in
                let loss = crossEntropy(P, ids: ids.baseAddress!, batch: batch, ws, gradient: true).loss
                withMutablePointers(&grads) { G in backward(P, ids: ids.baseAddress!, batchSize: batch.size, grads: G, ws) }
                return loss
            }
        }
    }

    /// Masked mean loss and the fraction of counted positions whose most likely token is the target.
    public func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float) {
        let ws = unsafeDowncast(workspace, to: TransformerLMWorkspace.self)
        return withPointers(params) { P in
            batch.tokens.withUnsafeBufferPointer { ids in crossEntropy(P, ids: ids.baseAddress!, batch: batch, ws, gradient: false) }
        }
    }

    /// The forward pass and the loss of §2.3: positions count where the input token is not pad.
    private func crossEntropy(_ P: [UnsafePointer<Float>], ids: UnsafePointer<Int32>, batch: Batch, _ ws: TransformerLMWorkspace,
                              gradient: Bool) -> (loss: Float, accuracy: Float) {
        precondition(batch.size <= ws.batchSize && batch.sequenceLength == config.seqLen,
                     "batch [\(batch.size), \(batch.sequenceLength)] does not fit workspace [\(ws.batchSize), \(config.seqLen)]")
        forward(P, ids: ids, batchSize: batch.size, noise: batch.noiseKey, ws)
        let n = batch.size * config.seqLen
        let counted = (0..<n).reduce(0) { $0 + (ids[$1] != 0 ? 1 : 0) }
        let r = batch.labels.withUnsafeBufferPointer { y in
            MLPKernels.softmaxCrossEntropy(ws.logits, labels: y.baseAddress!, rows: n, classes: config.vocab,
                                           dlogits: gradient ? ws.dlogits : nil, countedIf: ids)
        }
        return (r.loss, Float(r.correct) / Float(max(counted, 1)))
    }

    /// The logits of the last forward pass, [batch, S, V] (× the μP output multiplier).
    public func logits(_ workspace: TaskWorkspace, batchSize: Int) -> [Float] {
        let ws = unsafeDowncast(workspace, to: TransformerLMWorkspace.self)
        return Array(UnsafeBufferPointer(start: ws.logits, count: batchSize * config.seqLen * config.vocab))
    }

    /// The coordinate check's layers on `batch`: embedding output, each block's attention and FFN outputs, logits.
    public func activations(_ params: [Tensor], batch: Batch) -> [[Float]] {
        let ws = workspace(batchSize: batch.size)
        var out: [[Float]] = []
        withPointers(params) { P in
            batch.tokens.withUnsafeBufferPointer { ids in
                forward(P, ids: ids.baseAddress!, batchSize: batch.size, noise: batch.noiseKey, ws) { p, count in
                    out.append(Array(UnsafeBufferPointer(start: p, count: count)))
                }
            }
        }
        return out
    }
}
