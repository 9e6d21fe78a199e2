import Foundation

/// Activations of one batch size kept between the forward and backward passes, allocated once.
final class TransformerLMWorkspace: TaskWorkspace {
    struct Block {
        let ln1Xhat, ln1Rstd, ln1Out, q, k, v, probs, attn, mask1: UnsafeMutablePointer<Float>
        let ln2Xhat, ln2Rstd, ln2Out, ffnPre, ffnAct, mask2: UnsafeMutablePointer<Float>
    }

    let batchSize: Int
    private var owned: [UnsafeMutablePointer<Float>] = []
    private(set) var blocks: [Block] = []
    private(set) var h, lnfXhat, lnfRstd, lnfOut, logits: UnsafeMutablePointer<Float>
    // Backward scratch.
    private(set) var dh, dtmp, dln, dattn, dq, dk, dv, dffn, dlogits, scores: UnsafeMutablePointer<Float>

    init(config c: TransformerLMConfig, batchSize: Int) {
        self.batchSize = batchSize
        let n = batchSize * c.seqLen, (W, A, F, V) = (c.width, c.attnWidth, c.ffnWidth, c.vocab)
        let probs = batchSize * c.heads * c.seqLen * c.seqLen
        var owned: [UnsafeMutablePointer<Float>] = []
        func make(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            owned.append(p)
            return p
        }
        blocks = (0..<c.depth).map { _ in
            Block(ln1Xhat: make(n * W), ln1Rstd: make(n), ln1Out: make(n * W), q: make(n * A), k: make(n * A), v: make(n * A),
                  probs: make(probs), attn: make(n * A), mask1: make(c.dropout > 0 ? n * W : 0),
                  ln2Xhat: make(n * W), ln2Rstd: make(n), ln2Out: make(n * W), ffnPre: make(n * F), ffnAct: make(n * F),
                  mask2: make(c.dropout > 0 ? n * W : 0))
        }
        (h, lnfXhat, lnfRstd, lnfOut, logits) = (make(n * W), make(n * W), make(n), make(n * W), make(n * V))
        (dh, dtmp, dln, dattn) = (make(n * W), make(n * W), make(n * W), make(n * A))
        (dq, dk, dv, dffn, dlogits) = (make(n * A), make(n * A), make(n * A), make(n * F), make(n * V))
        scores = make(c.seqLen * c.seqLen)
        self.owned = owned
    }

    deinit { owned.forEach { $0.deallocate() } }
}

/// The language model's mathematics (TRANSFORMERS §2): pre-LN decoder blocks without
/// positional encoding, masked token-level cross-entropy, and hand-written backprop.
public struct TransformerLMModel: Sendable {
    public let config: TransformerLMConfig

    public init(config: TransformerLMConfig) { self.config = config }

    public func makeWorkspace(batchSize: Int) -> TaskWorkspace { workspace(batchSize: batchSize) }

    func workspace(batchSize: Int) -> TransformerLMWorkspace { TransformerLMWorkspace(config: config, batchSize: batchSize) }

    var attention: (Int) -> Attention {
        { b in Attention(batch: b, tokens: config.seqLen, heads: config.heads, headSize: config.headSize,
                         scale: config.logitScale, causal: true) }
    }

    /// Logits (× the μP output multiplier) of every position into ws.logits; dropout masks from `noise`.
    /// `trace` sees the embedding output, each block's attention and FFN branch outputs (before
    /// dropout), and the logits — the coordinate check's layers.
    func forward(_ P: [UnsafePointer<Float>], ids: UnsafePointer<Int32>, batchSize B: Int, noise: RNGKey,
                 _ ws: TransformerLMWorkspace, trace: ((UnsafePointer<Float>, Int) -> Void)? = nil) {
        let c = config, n = B * c.seqLen, (W, A, F, V) = (c.width, c.attnWidth, c.ffnWidth, c.vocab)
        for r in 0..<n { (ws.h + r * W).update(from: P[0] + Int(ids[r]) * W, count: W) }
        trace?(ws.h, n * W)
        for (i, blk) in ws.blocks.enumerated() {
            func p(_ s: TransformerLMConfig.Slot) -> UnsafePointer<Float> { P[c.block(i, s.rawValue)] }
            TransformerKernels.layerNorm(ws.h, rows: n, cols: W, gamma: p(.ln1Scale), beta: p(.ln1Offset), eps: 1e-5,
                                         variance: .twoPass, xhat: blk.ln1Xhat, rstd: blk.ln1Rstd, y: blk.ln1Out)
            for (out, w, b) in [(blk.q, p(.queryW), p(.queryB)), (blk.k, p(.keyW), p(.keyB)), (blk.v, p(.valueW), p(.valueB))] {
                dense(blk.ln1Out, w, b, out, rows: n, fanIn: W, fanOut: A)
            }
            attention(B).forward(q: blk.q, k: blk.k, v: blk.v, ids: ids, probs: blk.probs, out: blk.attn)
            dense(blk.attn, p(.outW), p(.outB), ws.dtmp, rows: n, fanIn: A, fanOut: W)
            trace?(ws.dtmp, n * W)
            residual(ws.dtmp, mask: blk.mask1, key: noise.split(UInt64(2 * i)), into: ws.h, count: n * W)
            TransformerKernels.layerNorm(ws.h, rows: n, cols: W, gamma: p(.ln2Scale), beta: p(.ln2Offset), eps: 1e-5,
                                         variance: .twoPass, xhat: blk.ln2Xhat, rstd: blk.ln2Rstd, y: blk.ln2Out)
            dense(blk.ln2Out, p(.ffnW1), p(.ffnB1), blk.ffnPre, rows: n, fanIn: W, fanOut: F)
            TransformerKernels.gelu(blk.ffnPre, blk.ffnAct, count: n * F)
            dense(blk.ffnAct, p(.ffnW2), p(.ffnB2), ws.dtmp, rows: n, fanIn: F, fanOut: W)
            trace?(ws.dtmp, n * W)
            residual(ws.dtmp, mask: blk.mask2, key: noise.split(UInt64(2 * i + 1)), into: ws.h, count: n * W)
        }
        TransformerKernels.layerNorm(ws.h, rows: n, cols: W, gamma: P[c.finalNorm], beta: P[c.finalNorm + 1], eps: 1e-5,
                                     variance: .twoPass, xhat: ws.lnfXhat, rstd: ws.lnfRstd, y: ws.lnfOut)
        dense(ws.lnfOut, P[c.readout], P[c.readout + 1], ws.logits, rows: n, fanIn: W, fanOut: V, scale: c.outputMultiplier)
        trace?(ws.logits, n * V)
    }

    /// Backprop from ws.dlogits = d(loss)/d(logits); writes every gradient.
    func backward(_ P: [UnsafePointer<Float>], ids: UnsafePointer<Int32>, batchSize B: Int,
                  grads G: [UnsafeMutablePointer<Float>], _ ws: TransformerLMWorkspace) {
        let c = config, n = B * c.seqLen, (W, A, F, V) = (c.width, c.attnWidth, c.ffnWidth, c.vocab)
        let m = c.outputMultiplier
        denseBackward(ws.dlogits, input: ws.lnfOut, P[c.readout], gw: G[c.readout], gb: G[c.readout + 1], dInput: ws.dln,
                      rows: n, fanIn: W, fanOut: V, scale: m)
        ws.dh.update(repeating: 0, count: n * W)
        TransformerKernels.layerNormBackward(ws.dln, xhat: ws.lnfXhat, rstd: ws.lnfRstd, gamma: P[c.finalNorm], rows: n, cols: W,
                                             dgamma: G[c.finalNorm], dbeta: G[c.finalNorm + 1], dx: ws.dh)
        for (i, blk) in ws.blocks.enumerated().reversed() {
            func p(_ s: TransformerLMConfig.Slot) -> UnsafePointer<Float> { P[c.block(i, s.rawValue)] }
            func g(_ s: TransformerLMConfig.Slot) -> UnsafeMutablePointer<Float> { G[c.block(i, s.rawValue)] }
            // FFN branch: h ← h + drop(gelu(ln2(h)·W1 + b1)·W2 + b2).
            branchGradient(ws.dh, mask: blk.mask2, into: ws.dtmp, count: n * W)
            denseBackward(ws.dtmp, input: blk.ffnAct, p(.ffnW2), gw: g(.ffnW2), gb: g(.ffnB2), dInput: ws.dffn,
                          rows: n, fanIn: F, fanOut: W)
            TransformerKernels.geluBackward(ws.dffn, u: blk.ffnPre, count: n * F)
            denseBackward(ws.dffn, input: blk.ln2Out, p(.ffnW1), gw: g(.ffnW1), gb: g(.ffnB1), dInput: ws.dln,
                          rows: n, fanIn: W, fanOut: F)
            TransformerKernels.layerNormBackward(ws.dln, xhat: blk.ln2Xhat, rstd: blk.ln2Rstd, gamma: p(.ln2Scale), rows: n, cols: W,
                                                 dgamma: g(.ln2Scale), dbeta: g(.ln2Offset), dx: ws.dh)
            // Attention branch: h ← h + drop(attn(ln1(h))·Wo + bo).
            branchGradient(ws.dh, mask: blk.mask1, into: ws.dtmp, count: n * W)
            denseBackward(ws.dtmp, input: blk.attn, p(.outW), gw: g(.outW), gb: g(.outB), dInput: ws.dattn,
                          rows: n, fanIn: A, fanOut: W)
            attention(B).backward(dout: ws.dattn, q: blk.q, k: blk.k, v: blk.v, ids: ids, probs: blk.probs, scratch: ws.scores,
                                  dq: ws.dq, dk: ws.dk, dv: ws.dv)
            for (j, (d, w, gw, gb)) in [(ws.dq, p(.queryW), g(.queryW), g(.queryB)), (ws.dk, p(.keyW), g(.keyW), g(.keyB)),
                                        (ws.dv, p(.valueW), g(.valueW), g(.valueB))].enumerated() {
                denseBackward(d, input: blk.ln1Out, w, gw: gw, gb: gb, dInput: ws.dln, rows: n, fanIn: W, fanOut: A,
                              accumulate: j > 0)
            }
            TransformerKernels.layerNormBackward(ws.dln, xhat: blk.ln1Xhat, rstd: blk.ln1Rstd, gamma: p(.ln1Scale), rows: n, cols: W,
                                                 dgamma: g(.ln1Scale), dbeta: g(.ln1Offset), dx: ws.dh)
        }
        // The embedding's gradient is a scatter-add of the rows, in position order.
        G[0].update(repeating: 0, count: V * W)
        for r in 0..<n { TransformerKernels.add(ws.dh + r * W, into: G[0] + Int(ids[r]) * W, count: W) }
    }

    /// out = scale·(x·w + b).
    private func dense(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                       _ out: UnsafeMutablePointer<Float>, rows: Int, fanIn: Int, fanOut: Int, scale: Float = 1) {
        MLPKernels.broadcastRows(out, rows: rows, cols: fanOut, bias: b, scale: scale)
        BLAS.sgemm(m: rows, n: fanOut, k: fanIn, alpha: scale, x, lda: fanIn, w, ldb: fanOut, beta: 1, out, ldc: fanOut)
    }

    /// From d(out) of `dense`: gw = scale·xᵀ·d, gb = scale·Σ d, dInput (=, or += with `accumulate`) scale·d·wᵀ.
    private func denseBackward(_ d: UnsafePointer<Float>, input x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                               gw: UnsafeMutablePointer<Float>, gb: UnsafeMutablePointer<Float>,
                               dInput: UnsafeMutablePointer<Float>, rows: Int, fanIn: Int, fanOut: Int,
                               scale: Float = 1, accumulate: Bool = false) {
        BLAS.sgemm(transA: true, m: fanIn, n: fanOut, k: rows, alpha: scale, x, lda: fanIn, d, ldb: fanOut, beta: 0, gw, ldc: fanOut)
        MLPKernels.columnSums(d, rows: rows, cols: fanOut, scale: scale, into: gb)
        BLAS.sgemm(transB: true, m: rows, n: fanIn, k: fanOut, alpha: scale, d, lda: fanOut, w, ldb: fanOut,
                   beta: accumulate ? 1 : 0, dInput, ldc: fanIn)
    }

    /// h += drop(x): x is masked in place (kept for nothing else) and added to the residual stream.
    private func residual(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, key: RNGKey,
                          into h: UnsafeMutablePointer<Float>, count: Int) {
        if config.dropout > 0 {
            TransformerKernels.dropoutMask(mask, count: count, rate: config.dropout, key: key)
            TransformerKernels.multiply(x, by: mask, count: count)
        }
        TransformerKernels.add(x, into: h, count: count)
    }

    /// The gradient reaching a residual branch's output: dh through its dropout mask.
    private func branchGradient(_ dh: UnsafePointer<Float>, mask: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                                count: Int) {
        out.update(from: dh, count: count)
        if config.dropout > 0 { TransformerKernels.multiply(out, by: mask, count: count) }
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
