import Foundation

/// The pre-LN transformer blocks both model families share (TRANSFORMERS §2.1, §3.1):
/// `h ← h + drop(Attn(LN1(h)))`, then `h ← h + drop(FFN(LN2(h)))` with a tanh-GELU FFN of width
/// 4W. What differs between the LM and the ViT is configuration: LayerNorm ε and variance form,
/// the attention mask and logit scale, dropout. Parameters are 16 per block in the references'
/// common order (`Slot`), block 0's first at `first`.
struct TransformerBlocks: Sendable, Equatable {
    let width: Int, depth: Int, heads: Int, headSize: Int, tokens: Int
    let eps: Float
    let variance: TransformerKernels.Variance
    let logitScale: Float
    /// Causal + pad-key mask (the LM) or none (the ViT).
    let causal: Bool
    let dropout: Float
    let first: Int

    /// Within a block, in the references' order.
    enum Slot: Int, CaseIterable {
        case ln1Scale, ln1Offset, queryW, queryB, keyW, keyB, valueW, valueB, outW, outB
        case ln2Scale, ln2Offset, ffnW1, ffnB1, ffnW2, ffnB2
    }
    static let perBlock = Slot.allCases.count

    var attnWidth: Int { heads * headSize }
    var ffnWidth: Int { 4 * width }
    func index(_ block: Int, _ slot: Slot) -> Int { first + Self.perBlock * block + slot.rawValue }
    /// The index after the last block's parameters.
    var end: Int { first + Self.perBlock * depth }

    func attention(batch: Int) -> Attention {
        Attention(batch: batch, tokens: tokens, heads: heads, headSize: headSize, scale: logitScale, causal: causal)
    }

    /// h (rows = batch·tokens, [rows, W]) through every block, in place. `trace` sees each
    /// block's attention and FFN branch outputs before dropout.
    func forward(_ P: [UnsafePointer<Float>], ids: UnsafePointer<Int32>?, batch: Int, noise: RNGKey,
                 h: UnsafeMutablePointer<Float>, _ ws: BlockWorkspace, trace: ((UnsafePointer<Float>, Int) -> Void)?) {
        let n = batch * tokens, (W, A, F) = (width, attnWidth, ffnWidth)
        for (i, blk) in ws.blocks.enumerated() {
            func p(_ s: Slot) -> UnsafePointer<Float> { P[index(i, s)] }
            TransformerKernels.layerNorm(h, rows: n, cols: W, gamma: p(.ln1Scale), beta: p(.ln1Offset), eps: eps,
                                         variance: variance, xhat: blk.ln1Xhat, rstd: blk.ln1Rstd, y: blk.ln1Out)
            for (out, w, b) in [(blk.q, p(.queryW), p(.queryB)), (blk.k, p(.keyW), p(.keyB)), (blk.v, p(.valueW), p(.valueB))] {
                Dense.forward(blk.ln1Out, w, b, out, rows: n, fanIn: W, fanOut: A)
            }
            attention(batch: batch).forward(q: blk.q, k: blk.k, v: blk.v, ids: ids, probs: blk.probs, out: blk.attn)
            Dense.forward(blk.attn, p(.outW), p(.outB), ws.dtmp, rows: n, fanIn: A, fanOut: W)
            trace?(ws.dtmp, n * W)
            residual(ws.dtmp, mask: blk.mask1, key: noise.split(UInt64(2 * i)), into: h, count: n * W)
            TransformerKernels.layerNorm(h, rows: n, cols: W, gamma: p(.ln2Scale), beta: p(.ln2Offset), eps: eps,
                                         variance: variance, xhat: blk.ln2Xhat, rstd: blk.ln2Rstd, y: blk.ln2Out)
            Dense.forward(blk.ln2Out, p(.ffnW1), p(.ffnB1), blk.ffnPre, rows: n, fanIn: W, fanOut: F)
            TransformerKernels.gelu(blk.ffnPre, blk.ffnAct, count: n * F)
            Dense.forward(blk.ffnAct, p(.ffnW2), p(.ffnB2), ws.dtmp, rows: n, fanIn: F, fanOut: W)
            trace?(ws.dtmp, n * W)
            residual(ws.dtmp, mask: blk.mask2, key: noise.split(UInt64(2 * i + 1)), into: h, count: n * W)
        }
    }

    /// From dh = d(loss)/d(output of the last block), in place to d(loss)/d(input of block 0);
    /// writes every block's gradients.
    func backward(_ P: [UnsafePointer<Float>], ids: UnsafePointer<Int32>?, batch: Int, grads G: [UnsafeMutablePointer<Float>],
                  dh: UnsafeMutablePointer<Float>, _ ws: BlockWorkspace) {
        let n = batch * tokens, (W, A, F) = (width, attnWidth, ffnWidth)
        for (i, blk) in ws.blocks.enumerated().reversed() {
            func p(_ s: Slot) -> UnsafePointer<Float> { P[index(i, s)] }
            func g(_ s: Slot) -> UnsafeMutablePointer<Float> { G[index(i, s)] }
            // FFN branch.
            branchGradient(dh, mask: blk.mask2, into: ws.dtmp, count: n * W)
            Dense.backward(ws.dtmp, input: blk.ffnAct, p(.ffnW2), gw: g(.ffnW2), gb: g(.ffnB2), dInput: ws.dffn,
                           rows: n, fanIn: F, fanOut: W)
            TransformerKernels.geluBackward(ws.dffn, u: blk.ffnPre, count: n * F)
            Dense.backward(ws.dffn, input: blk.ln2Out, p(.ffnW1), gw: g(.ffnW1), gb: g(.ffnB1), dInput: ws.dln,
                           rows: n, fanIn: W, fanOut: F)
            TransformerKernels.layerNormBackward(ws.dln, xhat: blk.ln2Xhat, rstd: blk.ln2Rstd, gamma: p(.ln2Scale), rows: n, cols: W,
                                                 dgamma: g(.ln2Scale), dbeta: g(.ln2Offset), dx: dh)
            // Attention branch.
            branchGradient(dh, mask: blk.mask1, into: ws.dtmp, count: n * W)
            Dense.backward(ws.dtmp, input: blk.attn, p(.outW), gw: g(.outW), gb: g(.outB), dInput: ws.dattn,
                           rows: n, fanIn: A, fanOut: W)
            attention(batch: batch).backward(dout: ws.dattn, q: blk.q, k: blk.k, v: blk.v, ids: ids, probs: blk.probs,
                                             scratch: ws.scores, dq: ws.dq, dk: ws.dk, dv: ws.dv)
            for (j, (d, w, gw, gb)) in [(ws.dq, p(.queryW), g(.queryW), g(.queryB)), (ws.dk, p(.keyW), g(.keyW), g(.keyB)),
                                        (ws.dv, p(.valueW), g(.valueW), g(.valueB))].enumerated() {
                Dense.backward(d, input: blk.ln1Out, w, gw: gw, gb: gb, dInput: ws.dln, rows: n, fanIn: W, fanOut: A,
                               accumulate: j > 0)
            }
            TransformerKernels.layerNormBackward(ws.dln, xhat: blk.ln1Xhat, rstd: blk.ln1Rstd, gamma: p(.ln1Scale), rows: n, cols: W,
                                                 dgamma: g(.ln1Scale), dbeta: g(.ln1Offset), dx: dh)
        }
    }

    /// h += drop(x): x is masked in place and added to the residual stream.
    private func residual(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, key: RNGKey,
                          into h: UnsafeMutablePointer<Float>, count: Int) {
        if dropout > 0 {
            TransformerKernels.dropoutMask(mask, count: count, rate: dropout, key: key)
            TransformerKernels.multiply(x, by: mask, count: count)
        }
        TransformerKernels.add(x, into: h, count: count)
    }

    /// The gradient reaching a residual branch's output: dh through its dropout mask.
    private func branchGradient(_ dh: UnsafePointer<Float>, mask: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                                count: Int) {
        out.update(from: dh, count: count)
        if dropout > 0 { TransformerKernels.multiply(out, by: mask, count: count) }
    }
}

/// The blocks' activations for one batch size, allocated once, plus the backward pass's scratch.
final class BlockWorkspace {
    struct Block {
        let ln1Xhat, ln1Rstd, ln1Out, q, k, v, probs, attn, mask1: UnsafeMutablePointer<Float>
        let ln2Xhat, ln2Rstd, ln2Out, ffnPre, ffnAct, mask2: UnsafeMutablePointer<Float>
    }

    let batchSize: Int
    let arena = FloatArena()
    private(set) var blocks: [Block] = []
    let dtmp, dln, dattn, dq, dk, dv, dffn, scores: UnsafeMutablePointer<Float>

    init(_ c: TransformerBlocks, batchSize: Int) {
        self.batchSize = batchSize
        let n = batchSize * c.tokens, (W, A, F) = (c.width, c.attnWidth, c.ffnWidth)
        let probs = batchSize * c.heads * c.tokens * c.tokens, masks = c.dropout > 0 ? n * W : 0
        let a = arena
        blocks = (0..<c.depth).map { _ in
            Block(ln1Xhat: a.make(n * W), ln1Rstd: a.make(n), ln1Out: a.make(n * W), q: a.make(n * A), k: a.make(n * A),
                  v: a.make(n * A), probs: a.make(probs), attn: a.make(n * A), mask1: a.make(masks),
                  ln2Xhat: a.make(n * W), ln2Rstd: a.make(n), ln2Out: a.make(n * W), ffnPre: a.make(n * F),
                  ffnAct: a.make(n * F), mask2: a.make(masks))
        }
        (dtmp, dln, dattn) = (a.make(n * W), a.make(n * W), a.make(n * A))
        (dq, dk, dv, dffn) = (a.make(n * A), a.make(n * A), a.make(n * A), a.make(n * F))
        scores = a.make(c.tokens * c.tokens)
    }
}

/// Zeroed float buffers freed together with their owner.
final class FloatArena {
    private var owned: [UnsafeMutablePointer<Float>] = []

    func make(_ count: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        owned.append(p)
        return p
    }

    deinit { owned.forEach { $0.deallocate() } }
}

/// y = scale·(x·w + b) over rows, and its backward pass.
enum Dense {
    static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                        _ out: UnsafeMutablePointer<Float>, rows: Int, fanIn: Int, fanOut: Int, scale: Float = 1) {
        MLPKernels.broadcastRows(out, rows: rows, cols: fanOut, bias: b, scale: scale)
        BLAS.sgemm(m: rows, n: fanOut, k: fanIn, alpha: scale, x, lda: fanIn, w, ldb: fanOut, beta: 1, out, ldc: fanOut)
    }

    /// From d(out): gw = scale·xᵀ·d, gb = scale·Σ d, dInput (=, or += with `accumulate`) scale·d·wᵀ.
    static func backward(_ d: UnsafePointer<Float>, input x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                         gw: UnsafeMutablePointer<Float>, gb: UnsafeMutablePointer<Float>,
                         dInput: UnsafeMutablePointer<Float>, rows: Int, fanIn: Int, fanOut: Int,
                         scale: Float = 1, accumulate: Bool = false) {
        BLAS.sgemm(transA: true, m: fanIn, n: fanOut, k: rows, alpha: scale, x, lda: fanIn, d, ldb: fanOut, beta: 0, gw, ldc: fanOut)
        MLPKernels.columnSums(d, rows: rows, cols: fanOut, scale: scale, into: gb)
        BLAS.sgemm(transB: true, m: rows, n: fanIn, k: fanOut, alpha: scale, d, lda: fanOut, w, ldb: fanOut,
                   beta: accumulate ? 1 : 0, dInput, ldc: fanIn)
    }
}
