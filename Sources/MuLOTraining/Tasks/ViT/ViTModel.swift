import Foundation

final class ViTWorkspace: TaskWorkspace {
    let batchSize: Int
    let blocks: BlockWorkspace
    /// patches [B·N, p], their embeddings [B·N, W], the residual stream [B·T, W]; the class
    /// token's final norm and logits; gradients.
    let patches, embedded, h, cls, lnXhat, lnRstd, lnOut, logits, dlogits, dln, dcls, dh, dEmbedded: UnsafeMutablePointer<Float>

    init(config c: ViTConfig, batchSize b: Int) {
        batchSize = b
        blocks = BlockWorkspace(c.blocks, batchSize: b)
        let a = blocks.arena, (W, N, T) = (c.width, c.patches, c.tokens)
        (patches, embedded, h) = (a.make(b * N * c.patchDim), a.make(b * N * W), a.make(b * T * W))
        (cls, lnXhat, lnRstd, lnOut) = (a.make(b * W), a.make(b * W), a.make(b), a.make(b * W))
        (logits, dlogits, dln, dcls) = (a.make(b * c.classes), a.make(b * c.classes), a.make(b * W), a.make(b * W))
        (dh, dEmbedded) = (a.make(b * T * W), a.make(b * N * W))
    }
}

/// The ViT's mathematics (TRANSFORMERS §3.1) with hand-written backprop; the loss is the mean
/// softmax cross-entropy over the batch.
public struct ViTModel: TaskModel {
    public let config: ViTConfig

    public init(config: ViTConfig) { self.config = config }

    public func makeWorkspace(batchSize: Int) -> TaskWorkspace { workspace(batchSize: batchSize) }

    func workspace(batchSize: Int) -> ViTWorkspace { ViTWorkspace(config: config, batchSize: batchSize) }

    /// Cuts images [B, H−2·border, W−2·border, c] (NHWC, row-major) into patches in row-major grid
    /// order, each flattened (ky, kx, channel), reading the zero border where it falls outside.
    func extractPatches(_ images: UnsafePointer<Float>, batch B: Int, into out: UnsafeMutablePointer<Float>) {
        let c = config, (P, C, bd) = (c.patch, c.channels, c.border)
        let (gh, gw) = (c.imageHeight / P, c.imageWidth / P)
        let (ih, iw) = (c.imageHeight - 2 * bd, c.imageWidth - 2 * bd)
        // One patch row (P pixels × C channels) at a time: zeros where it lies in the border, one
        // contiguous copy of the image row inside it.
        var o = 0
        for b in 0..<B {
            let img = images + b * ih * iw * C
            for gy in 0..<gh {
                for gx in 0..<gw {
                    for ky in 0..<P {
                        let row = out + o, y = gy * P + ky - bd, x0 = gx * P - bd
                        o += P * C
                        guard y >= 0 && y < ih else { row.update(repeating: 0, count: P * C); continue }
                        let lo = min(max(x0, 0), x0 + P), hi = max(min(x0 + P, iw), lo)
                        row.update(repeating: 0, count: (lo - x0) * C)
                        (row + (lo - x0) * C).update(from: img + (y * iw + lo) * C, count: (hi - lo) * C)
                        (row + (hi - x0) * C).update(repeating: 0, count: (x0 + P - hi) * C)
                    }
                }
            }
        }
    }

    /// Logits [B, C] (× the μP output multiplier) into ws.logits.
    func forward(_ P: [UnsafePointer<Float>], images: UnsafePointer<Float>, batch B: Int, _ ws: ViTWorkspace,
                 trace: ((UnsafePointer<Float>, Int) -> Void)? = nil) {
        let c = config, (W, N, T) = (c.width, c.patches, c.tokens)
        extractPatches(images, batch: B, into: ws.patches)
        Dense.forward(ws.patches, P[0], P[1], ws.embedded, rows: B * N, fanIn: c.patchDim, fanOut: W)
        let (cls, pos) = (P[2], P[3])
        for b in 0..<B {
            let row = ws.h + b * T * W
            for j in 0..<W { row[j] = cls[j] + pos[j] }
            for t in 1..<T {
                let e = ws.embedded + (b * N + t - 1) * W
                for j in 0..<W { row[t * W + j] = e[j] + pos[t * W + j] }
            }
        }
        trace?(ws.h, B * T * W)
        c.blocks.forward(P, ids: nil, batch: B, noise: RNGKey(seed: 0), h: ws.h, ws.blocks, trace: trace)
        // Only the class token reaches the head, so only its row is normalised.
        for b in 0..<B { (ws.cls + b * W).update(from: ws.h + b * T * W, count: W) }
        TransformerKernels.layerNorm(ws.cls, rows: B, cols: W, gamma: P[c.finalNorm], beta: P[c.finalNorm + 1], eps: c.blocks.eps,
                                     variance: c.blocks.variance, xhat: ws.lnXhat, rstd: ws.lnRstd, y: ws.lnOut)
        Dense.forward(ws.lnOut, P[c.head], P[c.head + 1], ws.logits, rows: B, fanIn: W, fanOut: c.classes,
                      scale: c.outputMultiplier)
        trace?(ws.logits, B * c.classes)
    }

    /// Backprop from ws.dlogits; writes every gradient.
    func backward(_ P: [UnsafePointer<Float>], batch B: Int, grads G: [UnsafeMutablePointer<Float>], _ ws: ViTWorkspace) {
        let c = config, (W, N, T) = (c.width, c.patches, c.tokens)
        Dense.backward(ws.dlogits, input: ws.lnOut, P[c.head], gw: G[c.head], gb: G[c.head + 1], dInput: ws.dln,
                       rows: B, fanIn: W, fanOut: c.classes, scale: c.outputMultiplier)
        ws.dcls.update(repeating: 0, count: B * W)
        TransformerKernels.layerNormBackward(ws.dln, xhat: ws.lnXhat, rstd: ws.lnRstd, gamma: P[c.finalNorm], rows: B, cols: W,
                                             dgamma: G[c.finalNorm], dbeta: G[c.finalNorm + 1], dx: ws.dcls)
        ws.dh.update(repeating: 0, count: B * T * W)
        for b in 0..<B { (ws.dh + b * T * W).update(from: ws.dcls + b * W, count: W) }
        c.blocks.backward(P, ids: nil, batch: B, grads: G, dh: ws.dh, ws.blocks)
        // Class token and positions sum over the batch; the patch embedding sees tokens 1…N.
        let (gcls, gpos) = (G[2], G[3])
        gcls.update(repeating: 0, count: W)
        gpos.update(repeating: 0, count: T * W)
        for b in 0..<B {
            let row = ws.dh + b * T * W
            for j in 0..<W { gcls[j] += row[j] }
            for i in 0..<(T * W) { gpos[i] += row[i] }
            (ws.dEmbedded + b * N * W).update(from: row + W, count: N * W)
        }
        BLAS.sgemm(transA: true, m: c.patchDim, n: W, k: B * N, ws.patches, lda: c.patchDim, ws.dEmbedded, ldb: W,
                   beta: 0, G[0], ldc: W)
        MLPKernels.columnSums(ws.dEmbedded, rows: B * N, cols: W, scale: 1, into: G[1])
    }
}

extension ViTModel {
    public func lossAndGradient(_ params: [Tensor], batch: Batch, grads: inout [Tensor], workspace: TaskWorkspace) -> Float {
        let ws = unsafeDowncast(workspace, to: ViTWorkspace.self)
        return withPointers(params) { P in
            let loss = crossEntropy(P, batch: batch, ws, gradient: true).loss
            withMutablePointers(&grads) { G in backward(P, batch: batch.size, grads: G, ws) }
            return loss
        }
    }

    public func evaluate(_ params: [Tensor], batch: Batch, workspace: TaskWorkspace) -> (loss: Float, accuracy: Float) {
        let ws = unsafeDowncast(workspace, to: ViTWorkspace.self)
        return withPointers(params) { P in crossEntropy(P, batch: batch, ws, gradient: false) }
    }

    private func crossEntropy(_ P: [UnsafePointer<Float>], batch: Batch, _ ws: ViTWorkspace, gradient: Bool) -> (loss: Float, accuracy: Float) {
        let c = config
        let inputDim = (c.imageHeight - 2 * c.border) * (c.imageWidth - 2 * c.border) * c.channels
        precondition(batch.size <= ws.batchSize && batch.inputDim == inputDim,
                     "batch [\(batch.size), \(batch.inputDim)] does not fit workspace [\(ws.batchSize), \(inputDim)]")
        batch.inputs.withUnsafeBufferPointer { forward(P, images: $0.baseAddress!, batch: batch.size, ws) }
        let r = batch.labels.withUnsafeBufferPointer { y in
            MLPKernels.softmaxCrossEntropy(ws.logits, labels: y.baseAddress!, rows: batch.size, classes: c.classes,
                                           dlogits: gradient ? ws.dlogits : nil)
        }
        return (r.loss, Float(r.correct) / Float(batch.size))
    }

    /// The logits of the last forward pass, [batch, classes].
    public func logits(_ workspace: TaskWorkspace, batchSize: Int) -> [Float] {
        let ws = unsafeDowncast(workspace, to: ViTWorkspace.self)
        return Array(UnsafeBufferPointer(start: ws.logits, count: batchSize * config.classes))
    }

    /// The coordinate check's layers: embedded tokens, each block's attention and MLP outputs, logits.
    public func activations(_ params: [Tensor], batch: Batch) -> [[Float]] {
        let ws = workspace(batchSize: batch.size)
        var out: [[Float]] = []
        withPointers(params) { P in
            batch.inputs.withUnsafeBufferPointer { images in
                forward(P, images: images.baseAddress!, batch: batch.size, ws) { p, n in out.append(Array(UnsafeBufferPointer(start: p, count: n))) }
            }
        }
        return out
    }
}
